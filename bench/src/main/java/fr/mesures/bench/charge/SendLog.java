package fr.mesures.bench.charge;

import org.HdrHistogram.Histogram;

/**
 * Ack latency accounting for one connection: when each value finished going out, and which values each
 * cumulative ack covers.
 *
 * <p>The sender appends {@code (v, t)}: "values up to v were completely written at t" (at full speed one entry per
 * socket write, however many values it carried; at a fixed rate, t is the time the value was <em>due</em>, so a
 * late sender cannot hide its own lag). When {@code {"ack": N}} arrives at time a, each reading among values
 * 1..N not yet accounted for is recorded once with latency {@code a - t} of the entry that carried it. Values
 * before {@code firstReading} (the acks request) are not readings and are not recorded.
 *
 * <p>Memory is one pair of longs per pending entry (entries leave as acks cover them). One thread only.
 */
public final class SendLog {

    private final int firstReading;
    private long[] values = new long[16];
    private long[] times = new long[16];
    private int head;
    private int size;
    private long lastSent;
    private long recorded;
    private long measureFrom;

    /** @param firstReading the number of the first value that is a reading (1, or 2 after an acks request) */
    public SendLog(int firstReading) {
        this.firstReading = firstReading;
    }

    /** Values up to {@code upTo} (cumulative) have been completely sent, at {@code nanos}. */
    public void sent(long upTo, long nanos) {
        if (upTo <= lastSent) {
            return;
        }
        if (size == values.length) {
            grow();
        }
        int at = (head + size) % values.length;
        values[at] = upTo;
        times[at] = nanos;
        size++;
        lastSent = upTo;
    }

    /**
     * Readings sent before {@code nanos} (a warm-up) are counted as acked but their latency is not recorded. The
     * load generator always sets it, to the first byte when there is no warm-up: {@link System#nanoTime} may be
     * negative, so the default of 0 is no "from the start".
     */
    public void measureFrom(long nanos) {
        this.measureFrom = nanos;
    }

    public long lastSent() {
        return lastSent;
    }

    /** The highest value accounted for by an ack so far. */
    public long acked() {
        return recorded;
    }

    /**
     * Ack N arrived at {@code nanos}: records the latency of the readings it newly covers into {@code latencies}
     * (microseconds).
     *
     * @return false when the ack covers values that were never completely sent (a protocol error)
     */
    public boolean ack(long n, long nanos, Histogram latencies) {
        boolean consistent = n <= lastSent;
        long upTo = Math.min(n, lastSent);
        while (recorded < upTo && size > 0) {
            long entryValues = values[head];
            long end = Math.min(entryValues, upTo);
            long from = Math.max(recorded, firstReading - 1L);
            long count = end - from;
            if (count > 0 && times[head] - measureFrom >= 0) {
                long micros = Math.max(0, (nanos - times[head]) / 1000);
                latencies.recordValueWithCount(Math.min(micros, latencies.getHighestTrackableValue()), count);
            }
            recorded = end;
            if (end == entryValues) {
                head = (head + 1) % values.length;
                size--;
            }
        }
        return consistent;
    }

    private void grow() {
        long[] v = new long[values.length * 2];
        long[] t = new long[values.length * 2];
        for (int i = 0; i < size; i++) {
            v[i] = values[(head + i) % values.length];
            t[i] = times[(head + i) % values.length];
        }
        values = v;
        times = t;
        head = 0;
    }
}
