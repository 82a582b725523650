package fr.mesures.capteur;

import fr.mesures.capteur.auth.AuthToken;
import fr.mesures.capteur.network.Backoff;
import fr.mesures.common.tls.ClientTls;
import fr.mesures.protocole.Durations;
import java.time.Duration;

/**
 * How a {@link CapteurTCP} measures and talks to the server. Built with {@link #builder(ServerAddress)}; every
 * setting has the default the command line documents.
 *
 * @param server         where the server listens
 * @param interval       time between two readings; {@link Duration#ZERO} measures as fast as the server takes them
 * @param maxUnacked     the most readings kept while waiting for acknowledgements; beyond it the oldest is dropped
 * @param connectTimeout how long a connection attempt may take
 * @param ackTimeout     how long readings may wait for any acknowledgement before the server is taken for dead
 * @param backoff        delays between connection attempts
 * @param tls            how to speak TLS to the server (its certificate checked, its host name too); null for
 *                       plaintext
 * @param token          what the sensor proves who it is with, sent first on every connection; null for none
 */
public record CapteurSettings(
        ServerAddress server,
        Duration interval,
        int maxUnacked,
        Duration connectTimeout,
        Duration ackTimeout,
        Backoff.Policy backoff,
        ClientTls tls,
        AuthToken token) {

    // Each duration is written once, as text, because the command line's defaults must be constant strings; the
    // Duration is read from that text.
    public static final String DEFAULT_INTERVAL_TEXT = "1s";
    public static final Duration DEFAULT_INTERVAL = Durations.parse(DEFAULT_INTERVAL_TEXT);
    public static final int DEFAULT_MAX_UNACKED = 10_000;
    public static final String DEFAULT_CONNECT_TIMEOUT_TEXT = "5s";
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Durations.parse(DEFAULT_CONNECT_TIMEOUT_TEXT);
    public static final String DEFAULT_ACK_TIMEOUT_TEXT = "30s";
    public static final Duration DEFAULT_ACK_TIMEOUT = Durations.parse(DEFAULT_ACK_TIMEOUT_TEXT);

    public CapteurSettings {
        if (interval.isNegative()) {
            throw new IllegalArgumentException("interval must not be negative");
        }
        if (maxUnacked < 1) {
            throw new IllegalArgumentException("max-unacked must be at least 1");
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connect timeout must be positive");
        }
        if (ackTimeout.isNegative() || ackTimeout.isZero()) {
            throw new IllegalArgumentException("ack timeout must be positive");
        }
    }

    public static Builder builder(ServerAddress server) {
        return new Builder(server);
    }

    public static Builder builder(String host, int port) {
        return new Builder(new ServerAddress(host, port));
    }

    /** Builds {@link CapteurSettings} from the defaults. */
    public static final class Builder {
        private final ServerAddress server;
        private Duration interval = DEFAULT_INTERVAL;
        private int maxUnacked = DEFAULT_MAX_UNACKED;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration ackTimeout = DEFAULT_ACK_TIMEOUT;
        private Backoff.Policy backoff = Backoff.Policy.DEFAULT;
        private ClientTls tls;
        private AuthToken token;

        private Builder(ServerAddress server) {
            this.server = server;
        }

        public Builder interval(Duration interval) {
            this.interval = interval;
            return this;
        }

        public Builder maxUnacked(int maxUnacked) {
            this.maxUnacked = maxUnacked;
            return this;
        }

        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
            return this;
        }

        public Builder ackTimeout(Duration ackTimeout) {
            this.ackTimeout = ackTimeout;
            return this;
        }

        public Builder backoff(Backoff.Policy backoff) {
            this.backoff = backoff;
            return this;
        }

        /** TLS to the server, or null (the default) for plaintext. */
        public Builder tls(ClientTls tls) {
            this.tls = tls;
            return this;
        }

        /** The token sent first on every connection, or null (the default) for none. */
        public Builder token(AuthToken token) {
            this.token = token;
            return this;
        }

        public CapteurSettings build() {
            return new CapteurSettings(server, interval, maxUnacked, connectTimeout, ackTimeout, backoff, tls, token);
        }
    }
}
