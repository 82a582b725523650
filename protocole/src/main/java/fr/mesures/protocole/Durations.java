package fr.mesures.protocole;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as people type them on both command lines: {@code 250ms}, {@code 1s}, {@code 5m}, {@code 2h},
 * {@code 1d}, or {@code 0}; ISO-8601 ({@code PT5M}) is accepted too.
 */
public final class Durations {

    private static final Pattern SIMPLE = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private Durations() {
    }

    /**
     * @throws IllegalArgumentException with a message for a person, also for a negative duration or one too
     *                                  large for {@link Duration}
     */
    public static Duration parse(String text) {
        Duration duration;
        try {
            duration = read(text.trim());
        } catch (RuntimeException e) {
            // A malformed text, and also digits too many for a long or a Duration: the same answer for a person.
            throw new IllegalArgumentException("'" + text + "' is not a duration (examples: 250ms, 1s, 5m, 2h)", e);
        }
        if (duration.isNegative()) {
            throw new IllegalArgumentException("'" + text + "' is negative; a duration here is 0 or more");
        }
        return duration;
    }

    private static Duration read(String text) {
        if (text.equals("0")) {
            return Duration.ZERO;
        }
        Matcher simple = SIMPLE.matcher(text.toLowerCase(Locale.ROOT));
        if (!simple.matches()) {
            return Duration.parse(text);
        }
        long amount = Long.parseLong(simple.group(1));
        return switch (simple.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }

    /**
     * The inverse of {@link #parse}: a duration as a person would type it, in the largest unit that expresses it
     * exactly ({@code 90s} rather than {@code 1m30s}, which {@link #parse} would not read back). A duration below
     * the millisecond has no such form and is written in ISO-8601, which {@link #parse} also reads; so is a
     * negative one, which {@link #parse} refuses.
     */
    public static String format(Duration duration) {
        if (duration.isZero()) {
            return "0";
        }
        if (duration.isNegative() || duration.getNano() % 1_000_000 != 0) {
            return duration.toString();
        }
        long millis = duration.toMillis();
        for (Unit unit : UNITS) {
            if (millis % unit.millis == 0) {
                return millis / unit.millis + unit.suffix;
            }
        }
        return millis + "ms";
    }

    private record Unit(long millis, String suffix) {
    }

    // Largest first, so the first unit that divides evenly gives the shortest text.
    private static final Unit[] UNITS = {
        new Unit(86_400_000L, "d"), new Unit(3_600_000L, "h"), new Unit(60_000L, "m"), new Unit(1000L, "s")
    };
}
