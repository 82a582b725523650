package fr.mesures.common.tls;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A certificate or key file that cannot be used, with a message for the operator that names the file and says
 * what is wrong with it; {@link #problem()} tells callers (and tests) which case it is without parsing the text.
 */
public final class TlsFileException extends IOException {

    private static final long serialVersionUID = 1L;

    /** What is wrong with the file. */
    public enum Problem {
        MISSING, UNREADABLE, EMPTY, NOT_PEM, NO_CERTIFICATE, NO_PRIVATE_KEY, TOO_MANY_KEYS, ENCRYPTED_KEY,
        UNSUPPORTED_KEY, KEY_MISMATCH, EXPIRED, NOT_YET_VALID
    }

    private final transient Path file;
    private final Problem problem;

    public TlsFileException(Path file, Problem problem, String message) {
        this(file, problem, message, null);
    }

    public TlsFileException(Path file, Problem problem, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
        this.problem = problem;
    }

    public Path file() {
        return file;
    }

    public Problem problem() {
        return problem;
    }
}
