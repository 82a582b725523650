package fr.mesures.protocole;

/**
 * Why the server sent an error line about the connection rather than about one value: the {@code reason} of
 * such a line, for programs. Like {@link RejectReason}'s labels, these names never change once released.
 */
public enum ConnectionReason {
    /** The server holds as many connections as it may; this one is closed. */
    TOO_MANY_CONNECTIONS("too_many_connections"),
    /** Nothing arrived for the idle timeout; the connection is closed. */
    IDLE_TIMEOUT("idle_timeout"),
    /** A value was started and not finished within the idle timeout; the connection is closed. */
    VALUE_TIMEOUT("value_timeout"),
    /** The {@code {"auth": ...}} value was refused (unknown token, or a token sent in clear): the connection is closed. */
    UNAUTHORIZED("unauthorized"),
    /** The server requires authentication and a reading came before it: the connection is closed. */
    AUTH_REQUIRED("auth_required"),
    /** The connection's credential was revoked while it was open: the connection is closed. */
    REVOKED("revoked"),
    /** Error lines were left out (counted in {@code dropped}); the values they were about are still acknowledged. */
    REPLIES_DROPPED("replies_dropped");

    private final String label;

    ConnectionReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
