package fr.mesures.capteur.cli;

import java.nio.file.Path;
import picocli.CommandLine;

/**
 * Which temperatures the sensors send: {@code simulated}, {@code stdin} (typed in, one per line) or
 * {@code replay:FILE} (CSV or NDJSON).
 */
public sealed interface SourceSpec {

    /** Simulated temperatures (daily cycle, random walk, noise). */
    record Simulated() implements SourceSpec {
        @Override
        public String toString() {
            return "simulated";
        }
    }

    /** Temperatures read from standard input. */
    record Stdin() implements SourceSpec {
        @Override
        public String toString() {
            return "stdin";
        }
    }

    /** Temperatures replayed from a file. */
    record Replay(Path file) implements SourceSpec {
        @Override
        public String toString() {
            return "replay:" + file;
        }
    }

    /** Converts the text of {@code --source}. */
    final class Converter implements CommandLine.ITypeConverter<SourceSpec> {
        @Override
        public SourceSpec convert(String text) {
            return parse(text);
        }
    }

    /**
     * @throws CommandLine.TypeConversionException with a message for a person
     */
    static SourceSpec parse(String text) {
        String s = text.strip();
        if (s.equals("simulated")) {
            return new Simulated();
        }
        if (s.equals("stdin") || s.equals("-")) {
            return new Stdin();
        }
        if (s.startsWith("replay:") && s.length() > "replay:".length()) {
            return new Replay(Path.of(s.substring("replay:".length())));
        }
        throw new CommandLine.TypeConversionException(
                "'" + text + "' is not a source (simulated, stdin or replay:FILE)");
    }
}
