package fr.mesures.protocole;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Times on the wire and in storage: epoch milliseconds (UTC), or ISO-8601 text with an offset or {@code Z}.
 *
 * <p>The accepted range is 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z, so that every stored time has
 * a four-digit-year ISO-8601 form.
 */
public final class Timestamps {

    public static final long MIN = 0L;
    public static final long MAX = 253_402_300_799_999L;

    private Timestamps() {
    }

    public static boolean inRange(long epochMillis) {
        return epochMillis >= MIN && epochMillis <= MAX;
    }

    public static String rangeProblem(long epochMillis) {
        return rangeProblem(Long.toString(epochMillis));
    }

    /** The same, for a number too large for a long, as it was written. */
    public static String rangeProblem(String epochMillis) {
        String shown = epochMillis.length() <= SafeText.MAX_ECHO_CHARS ? epochMillis : SafeText.quote(epochMillis);
        return "timestamp " + shown + " is outside 1970-01-01 .. 9999-12-31 (epoch milliseconds)";
    }

    /**
     * Parses ISO-8601 text with an offset ({@code 2025-11-24T13:00:00.123+01:00}) or {@code Z}; digits below the
     * millisecond are dropped.
     *
     * @throws IllegalArgumentException when the text is not such a time or is out of range
     */
    public static long parseIso(String text) {
        long millis;
        try {
            millis = DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(text, Instant::from).toEpochMilli();
        } catch (DateTimeParseException | ArithmeticException e) {
            throw new IllegalArgumentException("timestamp " + SafeText.quote(text) + " is not an ISO-8601 time with an offset"
                    + " or Z (for example 2025-11-24T12:00:00.123Z)");
        }
        if (!inRange(millis)) {
            throw new IllegalArgumentException(rangeProblem(millis));
        }
        return millis;
    }

    /** {@code 2025-11-24T12:00:00.123Z}: always UTC, always three fraction digits, so text order is time order. */
    public static String formatIso(long epochMillis) {
        return ISO_MILLIS.format(Instant.ofEpochMilli(epochMillis));
    }

    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);
}
