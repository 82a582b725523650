package fr.mesures.common.cli;

import fr.mesures.protocole.Durations;
import java.time.Duration;
import picocli.CommandLine;

/**
 * Reads durations as people write them ({@code 250ms}, {@code 1s}, {@code 5m}, {@code 2h}, a bare {@code 0}, or
 * ISO-8601) on every command line of the project, with the rules of {@link Durations}.
 */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    @Override
    public Duration convert(String text) {
        return parse(text);
    }

    /**
     * @throws CommandLine.TypeConversionException with a message for a person
     */
    public static Duration parse(String text) {
        try {
            return Durations.parse(text); // refuses negative durations itself
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
