package fr.mesures.bench.charge;

import fr.mesures.protocole.Reading;
import fr.mesures.protocole.Reply;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What the load consists of: R readings numbered {@code k = 0 .. R-1}, each one a distinct {@code (capteur_id,
 * timestamp)} so that the store must keep every one of them.
 *
 * <ul>
 *   <li>sensor {@code capteur_(k mod D + 1)}, timestamp {@code base + k div D} (milliseconds): the pair
 *       {@code (k mod D, k div D)} differs for every k, hence unique keys; and time moves forward for all sensors
 *       together, as it does for real sensors reporting "now";</li>
 *   <li>temperature {@code -20.0 .. 39.9} in tenths, from k;</li>
 *   <li>reading k goes to connection {@code k mod C} (connections interleave: with D = 1,000 and C = 100 each
 *       connection carries 10 sensors; with C = D each connection is one sensor).</li>
 * </ul>
 *
 * <p>The same numbering feeds the sqlite3 import ({@link #writeCsv}) and the raw TCP-to-file reference, so every
 * tool handles exactly the same rows. Immutable and thread-safe.
 */
public final class Workload {

    /** 2025-11-24T16:00:00Z: a fixed base, so runs are reproducible. */
    public static final long DEFAULT_BASE_MILLIS = 1_764_000_000_000L;

    /** The most bytes one connection's payload can hold: one byte array, then one direct buffer, indexed by int. */
    static final long MAX_PAYLOAD_BYTES = Integer.MAX_VALUE - 8;

    private static final byte[] ACKS_REQUEST = Reply.ACKS_REQUEST.getBytes(StandardCharsets.US_ASCII);

    private final long readings;
    private final int connections;
    private final int sensors;
    private final long baseMillis;

    public Workload(long readings, int connections, int sensors, long baseMillis) {
        if (readings < 0) {
            throw new IllegalArgumentException("readings must be 0 or more");
        }
        if (connections < 1) {
            throw new IllegalArgumentException("there must be at least one connection");
        }
        if (sensors < 1) {
            throw new IllegalArgumentException("there must be at least one sensor");
        }
        this.readings = readings;
        this.connections = connections;
        this.sensors = sensors;
        this.baseMillis = baseMillis;
        if (readings > 0) {
            // Timestamps grow with k: the first and the last reading are valid (Reading checks the range), so all are.
            reading(0);
            reading(readings - 1);
        }
    }

    public long readings() {
        return readings;
    }

    public int connections() {
        return connections;
    }

    public int sensors() {
        return sensors;
    }

    /** How many readings connection {@code c} sends. */
    public int readingsOf(int c) {
        return (int) (readings / connections + (c < readings % connections ? 1 : 0));
    }

    /** The global number of the {@code j}-th reading of connection {@code c}. */
    public long reading(int c, int j) {
        return c + (long) j * connections;
    }

    /** Reading k itself. */
    public Reading reading(long k) {
        return new Reading(capteurId(k), temperature(k), timestamp(k));
    }

    /** Sensor number (1-based) of reading k: its identifier is {@code "capteur_" + sensor(k)}. */
    public long sensor(long k) {
        return k % sensors + 1;
    }

    public String capteurId(long k) {
        return "capteur_" + sensor(k);
    }

    public long timestamp(long k) {
        return baseMillis + k / sensors;
    }

    /** -20.0 .. 39.9 °C in steps of a tenth, from k. */
    public double temperature(long k) {
        return ((int) (k % 600) - 200) / 10.0;
    }

    /**
     * The most bytes any connection's payload takes (an upper bound): the load generator needs it to fit in
     * {@link #MAX_PAYLOAD_BYTES}.
     */
    public long largestPayloadBytes(boolean acksRequest) {
        if (readings == 0) {
            return acksRequest ? ACKS_REQUEST.length : 0;
        }
        // The longest line: the sensor number with the most digits, the longest temperature (-20.0), and the
        // timestamp with the most characters, which is the first or the last.
        long longest = 0;
        for (long k : new long[] {0, readings - 1}) {
            longest = Math.max(longest, new Reading("capteur_" + sensors, -20.0, timestamp(k)).toJson().length());
        }
        return readingsOf(0) * longest + (acksRequest ? ACKS_REQUEST.length : 0);
    }

    /**
     * The bytes connection {@code c} sends, in a direct buffer (written to sockets without a copy), and where each
     * value ends. With {@code acksRequest} value 1 is {@code {"acks":true}} and the readings are values 2..n+1.
     * Each line is {@link Reading#toJson()} of its reading: built before anything is timed, so what it costs
     * does not matter.
     */
    public Payload payload(int c, boolean acksRequest) {
        int n = readingsOf(c);
        int values = n + (acksRequest ? 1 : 0);
        int[] ends = new int[values];
        byte[] scratch = new byte[(int) Math.min(MAX_PAYLOAD_BYTES, Math.max(64, (long) values * 80))];
        int p = 0;
        int v = 0;
        if (acksRequest) {
            System.arraycopy(ACKS_REQUEST, 0, scratch, 0, ACKS_REQUEST.length);
            p = ACKS_REQUEST.length;
            ends[v++] = p;
        }
        for (int j = 0; j < n; j++) {
            byte[] line = reading(reading(c, j)).toJson().getBytes(StandardCharsets.US_ASCII);
            if ((long) p + line.length > scratch.length) {
                if (scratch.length == MAX_PAYLOAD_BYTES) {
                    throw new IllegalStateException("connection " + c + ": more than " + MAX_PAYLOAD_BYTES
                            + " bytes (check largestPayloadBytes first)");
                }
                scratch = Arrays.copyOf(scratch, (int) Math.min(MAX_PAYLOAD_BYTES, scratch.length * 2L));
            }
            System.arraycopy(line, 0, scratch, p, line.length);
            p += line.length;
            ends[v++] = p;
        }
        ByteBuffer bytes = ByteBuffer.allocateDirect(p);
        bytes.put(scratch, 0, p).flip();
        return new Payload(bytes, ends, acksRequest ? 2 : 1);
    }

    /**
     * The same readings as CSV rows in the column order of the table {@code mesures}: capteur_id, timestamp,
     * temperature, received_at (which the sqlite3 import takes from {@code receivedAt}). The temperature is
     * written as {@link Reading#toJson()} writes it.
     */
    public void writeCsv(OutputStream out, long receivedAt) throws IOException {
        Writer w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.US_ASCII), 1 << 16);
        StringBuilder row = new StringBuilder(64);
        for (long k = 0; k < readings; k++) {
            Reading r = reading(k);
            row.setLength(0);
            row.append(r.capteurId()).append(',').append(r.timestamp()).append(',').append(r.temperature())
                    .append(',').append(receivedAt).append('\n');
            w.append(row);
        }
        w.flush();
    }

    /**
     * One connection's bytes and value boundaries: {@code ends[v - 1]} is where value v (1-based) ends.
     * {@code firstReading} is the number of the first value that is a reading (2 after an acks request).
     */
    public record Payload(ByteBuffer bytes, int[] ends, int firstReading) {
        public int values() {
            return ends.length;
        }
    }
}
