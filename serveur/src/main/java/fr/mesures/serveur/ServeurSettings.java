package fr.mesures.serveur;

import fr.mesures.common.tls.ClientAuth;
import fr.mesures.protocole.ReadingRules;
import fr.mesures.serveur.auth.AuthSettings;
import fr.mesures.serveur.metrics.HttpSecurity;
import fr.mesures.serveur.network.ListenSettings;
import fr.mesures.serveur.network.TlsListen;
import fr.mesures.serveur.reload.Reloader;
import fr.mesures.serveur.storage.SqliteStore;
import fr.mesures.serveur.storage.StoreSpec;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything a {@link ServeurTCP} is configured with. Built with {@link #builder()}; the defaults are the ones the
 * command line documents.
 *
 * @param listen        the TCP side: address, port, connection limits
 * @param httpPort      port of the HTTP endpoint ({@code /metrics}, {@code /health}); 0 for any free port, -1 for none
 * @param store         where readings go
 * @param sqlite        SQLite settings, when the store is SQLite
 * @param maxMessageBytes the largest accepted JSON value
 * @param workers       threads that decode and validate
 * @param maxBatchRows  the most readings committed in one transaction
 * @param rules         what makes a reading acceptable
 * @param maxSensorGauges how many sensors get a {@code capteur_temperature_celsius} series
 * @param auth          who may write what: credentials, and whether authentication is required
 * @param httpSecurity  HTTPS on the HTTP port, a token for {@code /metrics}: {@link HttpSecurity#NONE} for neither
 * @param reloader      what keeps file-made values current (the TLS certificate...): not a value but the one
 *                      service the settings carry, since what it watches is loaded before the server exists (a
 *                      file that cannot be used is a start-up error); the server starts and closes its thread
 */
public record ServeurSettings(
        ListenSettings listen,
        int httpPort,
        StoreSpec store,
        SqliteStore.Options sqlite,
        int maxMessageBytes,
        int workers,
        int maxBatchRows,
        ReadingRules rules,
        int maxSensorGauges,
        AuthSettings auth,
        HttpSecurity httpSecurity,
        Reloader reloader) {

    public static final int DEFAULT_PORT = 5050;
    public static final int DEFAULT_HTTP_PORT = 8080;
    public static final String DEFAULT_STORE = "sqlite:data/mesures.db";
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;
    /** Measured against 10,000 and 100,000: docs/performance.md, "Transaction size". */
    public static final int DEFAULT_MAX_BATCH_ROWS = 25_000;
    public static final int DEFAULT_MAX_SENSOR_GAUGES = 10_000;

    public ServeurSettings {
        if (httpPort < -1 || httpPort > 65535) {
            throw new IllegalArgumentException("HTTP port must be between 0 and 65535 (or -1 for none)");
        }
        if (maxMessageBytes < 256) {
            throw new IllegalArgumentException("the maximum message size must be at least 256 bytes");
        }
        if (workers < 1) {
            throw new IllegalArgumentException("there must be at least one worker");
        }
        if (maxBatchRows < 1) {
            throw new IllegalArgumentException("the maximum batch must be at least one reading");
        }
        if (maxSensorGauges < 0) {
            throw new IllegalArgumentException("the number of sensor gauges cannot be negative");
        }
        if (auth.required() && auth.credentials() == null && !clientCertificates(listen)) {
            throw new IllegalArgumentException("requiring authentication needs a way to authenticate: a credentials"
                    + " file (--credentials) or client certificates (--tls-client-ca)");
        }
        Objects.requireNonNull(httpSecurity, "httpSecurity");
        Objects.requireNonNull(reloader, "reloader");
    }

    /** Whether the TLS listener asks clients for certificates, which identify them. */
    public static boolean clientCertificates(ListenSettings listen) {
        return listen.tls() != null && listen.tls().tls().get().clientAuth() != ClientAuth.NONE;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link ServeurSettings}; every setting starts at its documented default. */
    public static final class Builder {
        private String bind = ListenSettings.DEFAULT_BIND;
        private int port = DEFAULT_PORT;
        private int backlog = ListenSettings.DEFAULT_BACKLOG;
        private int maxConnections = ListenSettings.DEFAULT_MAX_CONNECTIONS;
        private Duration idleTimeout = ListenSettings.DEFAULT_IDLE_TIMEOUT;
        private TlsListen tls;
        private int httpPort = DEFAULT_HTTP_PORT;
        private StoreSpec store = StoreSpec.parse(DEFAULT_STORE);
        private SqliteStore.Options sqlite = SqliteStore.Options.DEFAULT;
        private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
        private int workers = defaultWorkers();
        private int maxBatchRows = DEFAULT_MAX_BATCH_ROWS;
        private double maxTemperature = ReadingRules.DEFAULT_MAX_TEMPERATURE;
        private Duration maxClockSkew = ReadingRules.DEFAULT_MAX_CLOCK_SKEW;
        private int maxSensorGauges = DEFAULT_MAX_SENSOR_GAUGES;
        private AuthSettings auth = AuthSettings.NONE;
        private HttpSecurity httpSecurity = HttpSecurity.NONE;
        private Reloader reloader;

        private Builder() {
        }

        public Builder bind(String bind) {
            this.bind = bind;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder backlog(int backlog) {
            this.backlog = backlog;
            return this;
        }

        public Builder maxConnections(int maxConnections) {
            this.maxConnections = maxConnections;
            return this;
        }

        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = idleTimeout;
            return this;
        }

        /** The TLS listener, or null (the default) for none. */
        public Builder auth(AuthSettings auth) {
            this.auth = auth;
            return this;
        }

        public Builder tls(TlsListen tls) {
            this.tls = tls;
            return this;
        }

        public Builder httpPort(int httpPort) {
            this.httpPort = httpPort;
            return this;
        }

        public Builder store(String store) {
            this.store = StoreSpec.parse(store);
            return this;
        }

        public Builder store(StoreSpec store) {
            this.store = store;
            return this;
        }

        public Builder sqlite(SqliteStore.Options sqlite) {
            this.sqlite = sqlite;
            return this;
        }

        public Builder maxMessageBytes(int maxMessageBytes) {
            this.maxMessageBytes = maxMessageBytes;
            return this;
        }

        public Builder workers(int workers) {
            this.workers = workers;
            return this;
        }

        public Builder maxBatchRows(int maxBatchRows) {
            this.maxBatchRows = maxBatchRows;
            return this;
        }

        public Builder maxTemperature(double maxTemperature) {
            this.maxTemperature = maxTemperature;
            return this;
        }

        public Builder maxClockSkew(Duration maxClockSkew) {
            this.maxClockSkew = maxClockSkew;
            return this;
        }

        public Builder maxSensorGauges(int maxSensorGauges) {
            this.maxSensorGauges = maxSensorGauges;
            return this;
        }

        /** HTTPS and a token for {@code /metrics}; {@link HttpSecurity#NONE} (the default) for neither. */
        public Builder httpSecurity(HttpSecurity httpSecurity) {
            this.httpSecurity = httpSecurity;
            return this;
        }

        /**
         * The reloader whose watched files the server keeps current; the one the TLS listener's files were given
         * to. Default: a new one, polling every {@link Reloader#DEFAULT_PERIOD}.
         */
        public Builder reloader(Reloader reloader) {
            this.reloader = reloader;
            return this;
        }

        public ServeurSettings build() {
            return new ServeurSettings(new ListenSettings(bind, port, backlog, maxConnections, idleTimeout, tls),
                    httpPort, store, sqlite, maxMessageBytes, workers, maxBatchRows, new ReadingRules(maxTemperature, maxClockSkew),
                    maxSensorGauges, auth, httpSecurity,
                    reloader != null ? reloader : new Reloader(Reloader.DEFAULT_PERIOD));
        }

        private static int defaultWorkers() {
            return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        }
    }
}
