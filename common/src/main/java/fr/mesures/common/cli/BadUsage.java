package fr.mesures.common.cli;

import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * How both programs answer a command line they cannot use: one line on standard error,
 * {@code "<program>: <what is wrong> (see --help)"}, and exit code {@value #EXIT_CODE}, rather than picocli's
 * usage page, which buries the one line that matters under forty others (and in a container's log, where nobody
 * scrolls up).
 */
public final class BadUsage {

    /** The exit code of a bad command line, as with most Unix tools. */
    public static final int EXIT_CODE = 2;

    private BadUsage() {
    }

    /** The handler for {@code program}'s command line. */
    public static CommandLine.IParameterExceptionHandler handler(String program) {
        return (e, args) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println(line(program, e.getMessage() == null ? e.toString() : e.getMessage()));
            err.flush();
            return EXIT_CODE;
        };
    }

    /** The line written for {@code message}, on one line whatever it holds. */
    public static String line(String program, String message) {
        return program + ": " + message.replaceAll("\\s*\\R\\s*", " ").strip() + " (see --help)";
    }
}
