package fr.mesures.capteur.source;

import java.io.Closeable;

/**
 * Where a sensor's temperatures come from: simulated, typed in, or replayed from a file. The sensor composes one
 * source rather than subclassing per origin, so any origin works with any transport and a test can feed a sensor
 * exactly the values it wants.
 *
 * <p>Sources are polled by the thread that owns the sensor and must not block it: a source that waits for
 * something outside (a person typing) reads on its own thread and reports through {@link #start}.
 */
public interface TemperatureSource extends Closeable {

    /**
     * The next sample, or {@code null} when none is available right now (see {@link #ended()} to tell "not yet"
     * from "never again").
     *
     * @param nowMillis the time of measurement the sensor will stamp, for sources that depend on it
     */
    Sample poll(long nowMillis);

    /** True once the source has nothing more to give, ever. */
    boolean ended();

    /**
     * True when the source decides when samples exist (a person typing), so the sensor takes them as they come
     * instead of on its own schedule.
     */
    default boolean selfPaced() {
        return false;
    }

    /**
     * Starts whatever the source needs (a reader thread); {@code available} is called, from any thread, when a
     * sample or the end becomes available after {@link #poll} returned {@code null}.
     */
    default void start(Runnable available) {
    }

    /** Releases what the source holds; later polls return {@code null} and {@link #ended()} is true. */
    @Override
    void close();
}
