package fr.mesures.serveur.network;

import fr.mesures.common.tls.ServerTls;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

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
}
