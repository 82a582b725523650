package fr.mesures.serveur.network;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/**
 * The TLS listener of a {@link Serveur}, beside (or instead of) its plaintext one: same pipeline, same limits.
 *
 * @param port             TCP port; 0 picks a free one ({@link Serveur#tlsPort()} tells which)
 * @param contexts         the context of each new connection, asked once per accepted connection, so that a
 *                         renewed certificate is used by the connections that come after it
 * @param engines          makes the configured server-side engine (protocols, suites, client authentication)
 * @param handshakeTimeout a connection whose handshake has not finished by then is closed and counted
 */
public record TlsListen(int port, Supplier<SSLContext> contexts, Function<SSLContext, SSLEngine> engines,
        Duration handshakeTimeout) {

    public static final int DEFAULT_PORT = 5443;
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    public TlsListen {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("TLS port must be between 0 and 65535");
        }
        Objects.requireNonNull(contexts, "contexts");
        Objects.requireNonNull(engines, "engines");
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("the TLS handshake timeout must be positive");
        }
    }
}
