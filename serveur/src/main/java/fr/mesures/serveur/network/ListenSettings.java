package fr.mesures.serveur.network;

import java.time.Duration;

/**
 * The TCP side of a {@link Serveur}: where it listens and how many connections it holds.
 *
 * @param bind           address to listen on ({@code 0.0.0.0} for every interface)
 * @param port           plaintext TCP port; 0 picks a free one ({@link Serveur#port()} tells which), -1 for none
 * @param backlog        connections the kernel may queue before they are accepted; Java's default of 50 overflows
 *                       when thousands of sensors connect at once
 * @param maxConnections connections held at once; the next one is told so and closed
 * @param idleTimeout    a connection that sends nothing for this long is closed
 * @param tls            the TLS listener, or null for none; its connections share the limits above
 */
public record ListenSettings(String bind, int port, int backlog, int maxConnections, Duration idleTimeout,
        TlsListen tls) {

    public static final String DEFAULT_BIND = "127.0.0.1";
    public static final int DEFAULT_BACKLOG = 4096;
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);

    /** The same with another connection limit. */
    public ListenSettings withMaxConnections(int limit) {
        return new ListenSettings(bind, port, backlog, limit, idleTimeout, tls);
    }

    public ListenSettings {
        if (port < -1 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535 (or -1 for none)");
        }
        if (port == -1 && tls == null) {
            throw new IllegalArgumentException("with no plaintext port (-1) there must be a TLS port");
        }
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be positive");
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("the connection limit must be at least 1");
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("the idle timeout must be positive");
        }
    }
}
