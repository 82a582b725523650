package fr.mesures.serveur.metrics;

import fr.mesures.common.tls.ServerTls;

/**
 * How the HTTP endpoint protects itself: HTTPS instead of plain HTTP on its port, and a bearer token required by
 * {@code /metrics} ({@code /health} stays open, for orchestrators that cannot present one). Either may be absent;
 * {@link #NONE} is plain HTTP, open to all, the default.
 *
 * @param tls   the certificate and TLS policy of the port, or null for plain HTTP
 * @param token the token {@code /metrics} requires, or null for none
 */
public record HttpSecurity(ServerTls tls, BearerToken token) {

    public static final HttpSecurity NONE = new HttpSecurity(null, null);

    public boolean https() {
        return tls != null;
    }
}
