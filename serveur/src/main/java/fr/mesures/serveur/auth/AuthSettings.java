package fr.mesures.serveur.auth;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Who may write, as configured: the credentials file, whether a connection must authenticate before its first
 * reading, whether tokens are taken on the plaintext port, and how long a failed attempt waits for its answer.
 * Client certificates are configured with the TLS listener; they count as authentication here.
 *
 * @param credentials    the credentials file ({@link Credentials}), re-read when it changes; null for none
 * @param required       a connection that sends a reading before authenticating is refused
 * @param allowPlaintext tokens are accepted on the plaintext port too (where anyone on the path can read them)
 * @param failureDelay   the pause before a failed authentication is answered, so that guessing costs time
 */
public record AuthSettings(Path credentials, boolean required, boolean allowPlaintext, Duration failureDelay) {

    public static final Duration DEFAULT_FAILURE_DELAY = Duration.ofSeconds(1);
    /**
     * Where authentication is required, a connection that has not authenticated this long after it opened (after
     * its TLS handshake, on the TLS port) is closed: acks requests alone would otherwise hold a connection, and
     * enough of them every connection, forever.
     */
    public static final Duration DEADLINE = Duration.ofSeconds(10);

    /** No credentials, nothing required: every connection may write every {@code capteur_id}. */
    public static final AuthSettings NONE = new AuthSettings(null, false, false, DEFAULT_FAILURE_DELAY);

    public AuthSettings {
        if (failureDelay.isNegative()) {
            throw new IllegalArgumentException("the authentication failure delay cannot be negative");
        }
    }

    /** Tokens from this credentials file, required unless {@code required} says otherwise. */
    public static AuthSettings tokens(Path credentials, boolean required) {
        return new AuthSettings(credentials, required, false, DEFAULT_FAILURE_DELAY);
    }

    public AuthSettings withAllowPlaintext(boolean allow) {
        return new AuthSettings(credentials, required, allow, failureDelay);
    }

    public AuthSettings withFailureDelay(Duration delay) {
        return new AuthSettings(credentials, required, allowPlaintext, delay);
    }
}
