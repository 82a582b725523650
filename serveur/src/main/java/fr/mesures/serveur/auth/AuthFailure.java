package fr.mesures.serveur.auth;

import fr.mesures.protocole.ConnectionReason;

/**
 * Why a connection failed to authenticate: the {@code reason} label of {@code serveur_auth_failures_total}, which
 * never changes once released, and the reason its error line gives the client.
 */
public enum AuthFailure {
    /** The token is no credential's (never was, or was revoked). */
    UNKNOWN_TOKEN("unknown_token", ConnectionReason.UNAUTHORIZED),
    /** {@code "auth"} was not a non-empty string. */
    MALFORMED("malformed", ConnectionReason.UNAUTHORIZED),
    /** A token on the plaintext port, which does not take them unless told to ({@code --allow-plaintext-auth}). */
    PLAINTEXT("plaintext", ConnectionReason.UNAUTHORIZED),
    /** A reading (or anything but a token) came first on a server that requires authentication. */
    MISSING("missing", ConnectionReason.AUTH_REQUIRED);

    private final String label;
    private final ConnectionReason reply;

    AuthFailure(String label, ConnectionReason reply) {
        this.label = label;
        this.reply = reply;
    }

    public String label() {
        return label;
    }

    /** The reason of the error line the client gets. */
    public ConnectionReason reply() {
        return reply;
    }
}
