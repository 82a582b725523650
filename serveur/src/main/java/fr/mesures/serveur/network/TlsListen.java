package fr.mesures.serveur.network;

import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.ServerTls;
import fr.mesures.common.tls.TlsContexts;
import fr.mesures.serveur.reload.Reloader;
import fr.mesures.serveur.reload.Watched;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS listener of a {@link Serveur}, beside (or instead of) its plaintext one: same pipeline, same limits.
 *
 * @param port             TCP port; 0 picks a free one ({@link Serveur#tlsPort()} tells which)
 * @param tls              the certificate and policy of each new connection, asked once per accepted connection,
 *                         so that a renewed certificate is used by the connections that come after it
 * @param handshakeTimeout a connection whose handshake has not finished by then is closed and counted
 */
public record TlsListen(int port, Supplier<ServerTls> tls, Duration handshakeTimeout) {

    public static final int DEFAULT_PORT = 5443;
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(TlsListen.class);

    public TlsListen {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("TLS port must be between 0 and 65535");
        }
        Objects.requireNonNull(tls, "tls");
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("the TLS handshake timeout must be positive");
        }
    }

    /** A listener whose certificate never changes. */
    public static TlsListen of(int port, ServerTls tls, Duration handshakeTimeout) {
        return new TlsListen(port, () -> tls, handshakeTimeout);
    }

    /**
     * A listener whose certificate, key and client CA are read from {@code files} now (a file that cannot be used
     * throws), then again by {@code reloader} when they change: connections accepted after a renewal get the new
     * certificate, those open keep theirs. Watched as {@code tls}.
     */
    public static TlsListen reloading(int port, Files files, Duration handshakeTimeout, Reloader reloader)
            throws IOException {
        Watched<ServerTls> tls = reloader.watch("tls", files.paths(), files::load);
        tls.onChange(now -> log.info("TLS: new connections get {}", describe(now.certifiedKey().leaf())));
        return new TlsListen(port, tls, handshakeTimeout);
    }

    /** Seconds until the certificate new connections get expires; negative once it has. */
    public double certificateExpirySeconds() {
        return (tls.get().certifiedKey().leaf().getNotAfter().getTime() - System.currentTimeMillis()) / 1000.0;
    }

    private static String describe(X509Certificate leaf) {
        return leaf.getSubjectX500Principal() + " (serial " + leaf.getSerialNumber().toString(16) + ", valid until "
                + leaf.getNotAfter().toInstant() + ")";
    }

    /**
     * The files a TLS setup is read from.
     *
     * @param clientCa   the authorities client certificates must come from, or null when none is asked for
     * @param clientAuth whether a client certificate is asked for; {@code NONE} exactly when there is no client CA
     */
    public record Files(Path certificate, Path key, Path clientCa, ClientAuth clientAuth) {

        public Files {
            Objects.requireNonNull(certificate, "certificate");
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(clientAuth, "clientAuth");
        }

        List<Path> paths() {
            List<Path> paths = new ArrayList<>(List.of(certificate, key));
            if (clientCa != null) {
                paths.add(clientCa);
            }
            return paths;
        }

        /** The TLS setup these files make; see {@link TlsContexts#server}. */
        public ServerTls load() throws IOException {
            return TlsContexts.server(certificate, key, clientCa, clientAuth);
        }
    }
}
