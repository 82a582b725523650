package fr.mesures.capteur;

import fr.mesures.capteur.source.Sample;
import fr.mesures.capteur.source.TemperatureSource;
import fr.mesures.protocole.CapteurIds;
import fr.mesures.protocole.Reading;
import fr.mesures.protocole.Timestamps;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every sensor has, whatever carries its readings: an identifier, a source of temperatures and a clock, and
 * the one rule that makes its readings safe to resend: <em>the timestamps of one sensor strictly increase, at
 * least a millisecond apart</em>, even when asked to measure as fast as possible (it then measures at most once
 * a millisecond). The server keys readings by
 * {@code (capteur_id, timestamp)}, so two readings of one sensor can never share a key and a reading sent twice
 * is recognised and stored once.
 *
 * <p>The source and the clock are given, not inherited, so that any source works with any kind of sensor and
 * tests can fix time. A {@code Capteur} is not thread-safe: the thread that owns it calls {@link #measure()}.
 */
public class Capteur {

    private static final Logger log = LoggerFactory.getLogger(Capteur.class);

    private final String id;
    private final TemperatureSource source;
    private final LongSupplier clock;
    private long lastTimestamp = Long.MIN_VALUE;
    private Sample held;
    private long outOfOrder;

    /**
     * @param id     the sensor's identifier, {@code capteur_id} on the wire
     * @param source where temperatures come from; the sensor owns it and closes it
     * @param clock  the current time in epoch milliseconds ({@code System::currentTimeMillis} in production)
     */
    public Capteur(String id, TemperatureSource source, LongSupplier clock) {
        if (!CapteurIds.isValid(id)) {
            throw new IllegalArgumentException(CapteurIds.problem(id));
        }
        this.id = id;
        this.source = source;
        this.clock = clock;
    }

    public final String id() {
        return id;
    }

    protected final TemperatureSource source() {
        return source;
    }

    /**
     * Makes the next reading: the source's next temperature, stamped with the clock (or with the time the source
     * gives), never at or before the previous reading.
     *
     * <p>The clock is read once per call. A sensor never runs ahead of its clock: when it measures faster than
     * once a millisecond, the sample is held until the clock has moved ({@link #waitingForClock()}). A timestamp
     * in the future would take the key of a later reading (the next run of the same sensor, say), which the
     * server would then take for a duplicate.
     *
     * @return the reading, or {@code null} when the source has none right now, has ended, or the clock has not
     *         moved since the previous reading
     */
    public final Reading measure() {
        long now = clock.getAsLong();
        while (true) {
            Sample sample = held != null ? held : source.poll(now);
            held = null;
            if (sample == null) {
                return null;
            }
            if (!sample.hasTimestamp() && now <= lastTimestamp) {
                held = sample;
                return null;
            }
            Reading reading = stamp(sample, now);
            if (reading != null) {
                return reading;
            }
        }
    }

    /** True when a sample waits for the clock to pass the previous reading's time. */
    public final boolean waitingForClock() {
        return held != null;
    }

    private Reading stamp(Sample sample, long now) {
        long timestamp;
        if (sample.hasTimestamp()) {
            if (sample.timestamp() <= lastTimestamp) {
                // A replayed file going back in time would overwrite or duplicate a key: skip, and say so once in a
                // while rather than once per line.
                if (outOfOrder++ % 1000 == 0) {
                    log.warn("capteur {}: a timestamp in the replay is not after the previous one ({} <= {}),"
                            + " skipped ({} so far)", id, sample.timestamp(), lastTimestamp, outOfOrder);
                }
                return null;
            }
            timestamp = sample.timestamp();
        } else {
            timestamp = now;
        }
        if (!Timestamps.inRange(timestamp)) {
            log.warn("capteur {}: timestamp {} is out of range, sample skipped", id, timestamp);
            return null;
        }
        lastTimestamp = timestamp;
        return new Reading(id, sample.temperature(), timestamp);
    }

    /** True once the source has nothing more to give. */
    public final boolean sourceEnded() {
        return held == null && source.ended();
    }

    /** How many replayed samples were skipped because their time was not after the previous one. */
    protected final long outOfOrderSkipped() {
        return outOfOrder;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + id + "]";
    }
}
