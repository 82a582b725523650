package fr.mesures.protocole;

import java.time.Duration;

/**
 * The settings that decide whether a reading is acceptable; the rest of the rules (identifier, absolute zero,
 * time range) are fixed by the protocol.
 *
 * @param maxTemperature the highest temperature accepted, in degrees Celsius
 * @param maxClockSkew   how far ahead of the server's clock a timestamp may be: a reading stamped in the future
 *                       would take the key {@code (capteur_id, timestamp)} of the real reading made at that time
 */
public record ReadingRules(double maxTemperature, Duration maxClockSkew) {

    public static final double ABSOLUTE_ZERO = -273.15;
    public static final double DEFAULT_MAX_TEMPERATURE = 1000.0;
    public static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofHours(1);
    /** A skew that accepts any time in range: for reading back what was stored, and for replay files. */
    public static final Duration ANY_CLOCK_SKEW = Duration.ofMillis(Timestamps.MAX);
    public static final ReadingRules DEFAULT = new ReadingRules(DEFAULT_MAX_TEMPERATURE, DEFAULT_MAX_CLOCK_SKEW);
    /**
     * Only the protocol's fixed rules (identifier, absolute zero, time range): for reading back what a server with
     * any settings stored, and for replay files.
     */
    public static final ReadingRules ANY = new ReadingRules(Double.MAX_VALUE, ANY_CLOCK_SKEW);

    public ReadingRules {
        if (!(maxTemperature > ABSOLUTE_ZERO) || !Double.isFinite(maxTemperature)) {
            throw new IllegalArgumentException("the maximum temperature must be a finite number above "
                    + ABSOLUTE_ZERO + " °C");
        }
        if (maxClockSkew.isNegative() || maxClockSkew.compareTo(ANY_CLOCK_SKEW) > 0) {
            throw new IllegalArgumentException("the maximum clock skew must be between 0 and "
                    + Durations.format(ANY_CLOCK_SKEW));
        }
    }

    /** What is wrong with a temperature, or {@code null} when it is acceptable. */
    public String temperatureProblem(double celsius) {
        if (Double.isNaN(celsius)) {
            return "temperature is not a number";
        }
        if (Double.isInfinite(celsius)) {
            // JSON has no infinity: a number with an exponent too large for a double reads as one.
            return "temperature is too large to be a finite number";
        }
        if (celsius < ABSOLUTE_ZERO) {
            return "temperature " + celsius + " is below absolute zero (" + ABSOLUTE_ZERO + " °C)";
        }
        if (celsius > maxTemperature) {
            return "temperature " + celsius + " is above the maximum of " + maxTemperature + " °C";
        }
        return null;
    }

    /**
     * What is wrong with a (valid) timestamp received at {@code nowMillis}, or {@code null} when it is acceptable:
     * the message says how far ahead it is, so that a sensor with a wrong clock is found at once.
     */
    public String timestampProblem(long timestamp, long nowMillis) {
        long ahead = timestamp - nowMillis;
        if (ahead <= maxClockSkew.toMillis()) {
            return null;
        }
        return "timestamp " + Timestamps.formatIso(timestamp) + " is " + roughly(ahead)
                + " ahead of the server's clock (at most " + Durations.format(maxClockSkew)
                + " is accepted): check the sensor's clock";
    }

    /** {@code 3 h 05 min}, {@code 12 min 30 s}, {@code 42 s}: enough to recognise a time zone or a wrong date. */
    private static String roughly(long millis) {
        long seconds = millis / 1000;
        if (seconds >= 86_400) {
            return seconds / 86_400 + " days " + seconds % 86_400 / 3600 + " h";
        }
        if (seconds >= 3600) {
            return String.format("%d h %02d min", seconds / 3600, seconds % 3600 / 60);
        }
        if (seconds >= 60) {
            return String.format("%d min %02d s", seconds / 60, seconds % 60);
        }
        return seconds + " s";
    }
}
