package fr.mesures.capteur.network;

import fr.mesures.protocole.Durations;
import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * How long to wait before the next connection attempt: doubling from {@code initial} up to {@code max}, with
 * "equal jitter" (a random point in the upper half of the step) so that a thousand sensors that lost the same
 * server do not all knock again in the same millisecond, yet none retries sooner than half its step.
 *
 * <p>Reset when the server shows it is working (it acknowledged something), not merely when a connection opens:
 * a server that accepts and immediately closes must still see the delays grow. Not thread-safe: owned by one
 * sensor.
 */
public final class Backoff {

    /**
     * @param initial the first delay after a failure
     * @param max     the longest delay
     */
    public record Policy(Duration initial, Duration max) {
        /** The default longest delay as the command line writes it (a constant string); DEFAULT reads it. */
        public static final String DEFAULT_MAX_TEXT = "10s";
        public static final Policy DEFAULT = new Policy(Duration.ofMillis(200), Durations.parse(DEFAULT_MAX_TEXT));

        public Policy {
            // The maximum first: it is what people set (--max-backoff), the initial delay is derived from it.
            if (max.isNegative() || max.isZero()) {
                throw new IllegalArgumentException("the maximum backoff must be positive");
            }
            if (initial.isNegative() || initial.isZero()) {
                throw new IllegalArgumentException("the initial backoff must be positive");
            }
            if (max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("the maximum backoff must not be below the initial one");
            }
        }
    }

    private final long initialMillis;
    private final long maxMillis;
    private final DoubleSupplier random;
    private int failures;

    /**
     * @param random uniform numbers in [0, 1), for the jitter
     */
    public Backoff(Policy policy, DoubleSupplier random) {
        this.initialMillis = policy.initial().toMillis();
        this.maxMillis = policy.max().toMillis();
        this.random = random;
    }

    /** The delay before the next attempt; each call counts one more failure. */
    public long nextDelayMillis() {
        long step = maxMillis;
        if (failures < 62 && initialMillis <= (maxMillis >> Math.min(failures, 62))) {
            step = Math.min(maxMillis, initialMillis << failures);
        }
        failures++;
        long half = step / 2;
        return step - half + (long) (random.getAsDouble() * (half + 1));
    }

    public void reset() {
        failures = 0;
    }
}
