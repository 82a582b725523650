package fr.mesures.serveur.metrics;

import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.ServerTls;
import fr.mesures.common.tls.TlsContexts;
import fr.mesures.serveur.reload.Reloader;
import fr.mesures.serveur.reload.Watched;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the HTTP endpoint protects itself: HTTPS instead of plain HTTP on its port, and a bearer token required by
 * {@code /metrics} ({@code /health} stays open, for orchestrators that cannot present one). Either may be absent;
 * {@link #NONE} is plain HTTP, open to all, the default. Both are suppliers, asked again for each new connection
 * (the certificate) and each request (the token), so that files re-read by a {@link Reloader} take effect without a
 * restart: see {@link #reloading}.
 *
 * @param tls   the certificate and TLS policy of the port, or null for plain HTTP
 * @param token the token {@code /metrics} requires, or null for none
 */
public record HttpSecurity(Supplier<ServerTls> tls, Supplier<BearerToken> token) {

    public static final HttpSecurity NONE = new HttpSecurity(null, null);

    private static final Logger log = LoggerFactory.getLogger(HttpSecurity.class);

    /** A certificate and a token that never change; either may be null. */
    public static HttpSecurity fixed(ServerTls tls, BearerToken token) {
        return new HttpSecurity(tls == null ? null : () -> tls, token == null ? null : () -> token);
    }

    /**
     * HTTPS from {@code certificate} and {@code key}, and the token in {@code tokenFile}, read now (a file that
     * cannot be used throws), then again by {@code reloader} when they change, watched as {@code http-tls} and
     * {@code http-token}: connections opened after a renewal get the new certificate, requests after an edit need
     * the new token, and files that cannot be used keep the ones in use (the reloader's rules). The HTTP port never
     * asks for a client certificate, so it has a watch of its own even when its files are the sensor port's.
     *
     * @param certificate null for plain HTTP (then {@code key} is null too)
     * @param tokenFile   null for an open {@code /metrics}
     * @throws IOException when a file cannot be used, with a one-line message naming it
     */
    public static HttpSecurity reloading(Path certificate, Path key, Path tokenFile, Reloader reloader)
            throws IOException {
        Watched<ServerTls> tls = null;
        if (certificate != null) {
            tls = reloader.watch("http-tls", List.of(certificate, key),
                    () -> TlsContexts.server(certificate, key, null, ClientAuth.NONE));
            tls.onChange(now -> log.info("HTTPS: new connections get {}", describe(now.certifiedKey().leaf())));
        }
        Watched<BearerToken> token = null;
        if (tokenFile != null) {
            token = reloader.watch("http-token", List.of(tokenFile), () -> readToken(tokenFile));
        }
        return new HttpSecurity(tls, token);
    }

    /** As an IOException, which the reloader logs by its message alone, the message naming the file. */
    private static BearerToken readToken(Path file) throws IOException {
        try {
            return BearerToken.read(file);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    public boolean https() {
        return tls != null;
    }

    private static String describe(X509Certificate leaf) {
        return leaf.getSubjectX500Principal() + " (serial " + leaf.getSerialNumber().toString(16) + ", valid until "
                + leaf.getNotAfter().toInstant() + ")";
    }
}
