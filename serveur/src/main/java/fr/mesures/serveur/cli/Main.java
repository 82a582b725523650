package fr.mesures.serveur.cli;

import fr.mesures.common.cli.BadUsage;
import fr.mesures.common.cli.DurationConverter;
import fr.mesures.common.cli.EnvironmentDefaults;
import fr.mesures.common.tls.ClientAuth;
import fr.mesures.protocole.ReadingRules;
import fr.mesures.serveur.ServeurSettings;
import fr.mesures.serveur.ServeurTCP;
import fr.mesures.serveur.auth.AuthSettings;
import fr.mesures.serveur.metrics.HttpSecurity;
import fr.mesures.serveur.network.ListenSettings;
import fr.mesures.serveur.network.TlsListen;
import fr.mesures.serveur.reload.Reloader;
import fr.mesures.serveur.storage.SqliteStore;
import fr.mesures.serveur.storage.StoreException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The server's command line. Every flag also reads an environment variable (for containers); a bad flag or an
 * unusable store ends the program at once with one line on standard error and exit code 2.
 */
@Command(name = "serveur", mixinStandardHelpOptions = true, version = "serveur 0.1.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Collects temperature readings sent as JSON over TCP and stores every one of them.")
public final class Main implements Callable<Integer> {

    static final int BAD_USAGE = 2;
    /** A thread of the pipeline died (sysexits' EX_SOFTWARE): a supervisor should restart the server. */
    static final int FAILED = 70;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "" + ServeurSettings.DEFAULT_PORT,
            description = "plaintext TCP port for the sensors; -1 turns it off (SERVEUR_PORT; default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--tls-port", paramLabel = "PORT", defaultValue = "" + TlsListen.DEFAULT_PORT,
            description = "TLS port for the sensors, open when --tls-cert is given (SERVEUR_TLS_PORT; default "
                    + "${DEFAULT-VALUE})")
    int tlsPort;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "the server's certificate in PEM, leaf first, then its chain (SERVEUR_TLS_CERT)")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE",
            description = "the certificate's private key in PEM: PKCS#8, PKCS#1 (RSA) or SEC1 (EC) (SERVEUR_TLS_KEY)")
    Path tlsKey;

    @Option(names = "--tls-client-ca", paramLabel = "FILE",
            description = "ask TLS clients for a certificate from these authorities (PEM); re-read when it changes,"
                    + " as --tls-cert and --tls-key are (SERVEUR_TLS_CLIENT_CA)")
    Path tlsClientCa;

    @Option(names = "--tls-client-auth", paramLabel = "MODE", converter = ClientAuthConverter.class,
            description = "none, optional (checked if sent) or required: whether TLS clients must show a"
                    + " certificate (SERVEUR_TLS_CLIENT_AUTH; default required with --tls-client-ca, else none)")
    ClientAuth tlsClientAuth;

    @Option(names = "--tls-handshake-timeout", paramLabel = "DURATION", defaultValue = "10s",
            converter = DurationConverter.class,
            description = "close a TLS connection whose handshake has not finished by then "
                    + "(SERVEUR_TLS_HANDSHAKE_TIMEOUT; default ${DEFAULT-VALUE})")
    Duration tlsHandshakeTimeout;

    @Option(names = "--credentials", paramLabel = "FILE",
            description = "who may write which capteur_id: token hashes and certificate mappings, re-read when it"
                    + " changes; managed with 'serveur credentials' (SERVEUR_CREDENTIALS)")
    Path credentials;

    @Option(names = "--require-auth", negatable = true, paramLabel = "BOOLEAN",
            description = "refuse a connection that sends a reading before authenticating (SERVEUR_REQUIRE_AUTH;"
                    + " default: on when --credentials or --tls-client-ca is given)")
    Boolean requireAuth;

    @Option(names = "--allow-plaintext-auth",
            description = "accept tokens on the plaintext port too, where anyone on the path can read them"
                    + " (SERVEUR_ALLOW_PLAINTEXT_AUTH)")
    boolean allowPlaintextAuth;

    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "" + ServeurSettings.DEFAULT_HTTP_PORT,
            description = "HTTP port for /metrics and /health; -1 turns it off (SERVEUR_HTTP_PORT; default "
                    + "${DEFAULT-VALUE})")
    int httpPort;

    // --- HTTPS and a token for /metrics (the HTTP port's security) ---

    @Option(names = "--http-tls-cert", paramLabel = "FILE",
            description = "serve /metrics and /health over HTTPS with this certificate chain in PEM; may be the "
                    + "--tls-cert file; re-read when it changes, as --http-tls-key is (SERVEUR_HTTP_TLS_CERT)")
    Path httpTlsCert;

    @Option(names = "--http-tls-key", paramLabel = "FILE",
            description = "the HTTPS certificate's private key in PEM (SERVEUR_HTTP_TLS_KEY)")
    Path httpTlsKey;

    @Option(names = "--http-token-file", paramLabel = "FILE",
            description = "/metrics requires 'Authorization: Bearer TOKEN', TOKEN being this file's content, trimmed;"
                    + " /health stays open; re-read when it changes (SERVEUR_HTTP_TOKEN_FILE)")
    Path httpTokenFile;

    // --- end of the HTTP port's security ---

    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = ListenSettings.DEFAULT_BIND,
            description = "address to listen on, 0.0.0.0 for every interface (SERVEUR_BIND; default "
                    + "${DEFAULT-VALUE})")
    String bind;

    @Option(names = "--store", paramLabel = "KIND:PATH",
            defaultValue = ServeurSettings.DEFAULT_STORE,
            description = "sqlite:PATH or file:PATH (SERVEUR_STORE; default ${DEFAULT-VALUE})")
    String store;

    @Option(names = "--max-connections", paramLabel = "N",
            defaultValue = "" + ListenSettings.DEFAULT_MAX_CONNECTIONS,
            description = "connections held at once (SERVEUR_MAX_CONNECTIONS; default ${DEFAULT-VALUE})")
    int maxConnections;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", defaultValue = "5m",
            converter = DurationConverter.class,
            description = "close a connection silent for this long (SERVEUR_IDLE_TIMEOUT; default ${DEFAULT-VALUE})")
    Duration idleTimeout;

    @Option(names = "--max-message-bytes", paramLabel = "BYTES",
            defaultValue = "" + ServeurSettings.DEFAULT_MAX_MESSAGE_BYTES,
            description = "largest JSON value accepted (SERVEUR_MAX_MESSAGE_BYTES; default ${DEFAULT-VALUE})")
    int maxMessageBytes;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "0",
            description = "threads that decode readings; 0 means one per two cores (SERVEUR_WORKERS; default "
                    + "${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--max-batch", paramLabel = "ROWS",
            defaultValue = "" + ServeurSettings.DEFAULT_MAX_BATCH_ROWS,
            description = "most readings committed in one transaction (SERVEUR_MAX_BATCH; default ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--max-temperature", paramLabel = "CELSIUS",
            defaultValue = "" + ReadingRules.DEFAULT_MAX_TEMPERATURE,
            description = "highest temperature accepted (SERVEUR_MAX_TEMPERATURE; default ${DEFAULT-VALUE})")
    double maxTemperature;

    @Option(names = "--max-clock-skew", paramLabel = "DURATION", defaultValue = "1h",
            converter = DurationConverter.class,
            description = "reject readings stamped further than this ahead of the server's clock (SERVEUR_MAX_CLOCK_SKEW;"
                    + " default ${DEFAULT-VALUE})")
    Duration maxClockSkew;

    @Option(names = "--sqlite-synchronous", paramLabel = "MODE",
            defaultValue = "FULL",
            description = "FULL: acknowledged readings survive a power cut; NORMAL: they survive a crash of the "
                    + "process (SERVEUR_SQLITE_SYNCHRONOUS; default ${DEFAULT-VALUE})")
    String sqliteSynchronous;

    @Option(names = "--max-sensor-gauges", paramLabel = "N",
            defaultValue = "" + ServeurSettings.DEFAULT_MAX_SENSOR_GAUGES,
            description = "sensors given a capteur_temperature_celsius series (SERVEUR_MAX_SENSOR_GAUGES; default "
                    + "${DEFAULT-VALUE})")
    int maxSensorGauges;

    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Map<String, String> environment;

    Main(Map<String, String> environment) {
        this.environment = environment;
    }

    public static void main(String[] args) {
        System.exit(commandLine(new Main(System.getenv())).execute(args));
    }

    /** The configured command line: defaults from the environment, one-line errors and exit code 2 for bad usage. */
    static CommandLine commandLine(Main main) {
        CommandLine cli = new CommandLine(main);
        cli.setDefaultValueProvider(new EnvironmentDefaults("SERVEUR", main.environment));
        // Added after the environment defaults, which are the server's: SERVEUR_NAME must not name a credential.
        cli.addSubcommand(new CredentialsCommand());
        cli.addSubcommand(new SetupTlsCommand());
        cli.setParameterExceptionHandler(BadUsage.handler("serveur"));
        return cli;
    }

    @Override
    public Integer call() throws InterruptedException {
        ServeurTCP serveur;
        try {
            ServeurSettings.Builder builder = ServeurSettings.builder()
                    .bind(bind).port(port).httpPort(httpPort).store(store)
                    .maxConnections(maxConnections).idleTimeout(idleTimeout)
                    .maxMessageBytes(maxMessageBytes)
                    .maxBatchRows(maxBatch).maxTemperature(maxTemperature).maxClockSkew(maxClockSkew)
                    .maxSensorGauges(maxSensorGauges)
                    .sqlite(new SqliteStore.Options(sqliteSynchronous, SqliteStore.Options.DEFAULT.busyTimeoutMs(),
                            SqliteStore.Options.DEFAULT.cacheMiB()));
            if (workers != 0) {
                builder.workers(workers);
            }
            Reloader reloader = new Reloader(Reloader.DEFAULT_PERIOD);
            TlsListen tls = tls(reloader);
            builder.reloader(reloader).tls(tls);
            builder.auth(auth(tls));
            builder.httpSecurity(httpSecurity(reloader));
            ServeurSettings settings = builder.build();
            serveur = new ServeurTCP(settings);
        } catch (IllegalArgumentException | StoreException | IOException e) {
            System.err.println("serveur: " + e.getMessage());
            return BAD_USAGE;
        }
        try {
            serveur.start();
        } catch (UncheckedIOException e) {
            System.err.println("serveur: " + e.getMessage());
            return BAD_USAGE;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            serveur.close();
            stopped.countDown();
        }, "serveur-shutdown"));
        // Until SIGTERM (the hook closes the server), or until a pipeline thread dies: then this thread closes it
        // (a short, bounded stop: what was acknowledged is committed already) and exits non-zero, for a supervisor
        // to restart a clean process.
        while (stopped.getCount() > 0) {
            if (serveur.awaitFailure(1, TimeUnit.SECONDS)) {
                serveur.close();
                System.err.println("serveur: " + serveur.health().failure() + "; stopped");
                return FAILED;
            }
        }
        return 0;
    }

    /** Who may write: the credentials file, and whether authenticating is required (by default when possible). */
    private AuthSettings auth(TlsListen tls) {
        boolean certificates = tls != null && tls.tls().get().clientAuth() != ClientAuth.NONE;
        if (credentials == null && !certificates) {
            if (allowPlaintextAuth) {
                throw new IllegalArgumentException("--allow-plaintext-auth needs --credentials (tokens to accept)");
            }
            if (Boolean.TRUE.equals(requireAuth)) {
                throw new IllegalArgumentException("--require-auth needs a way to authenticate: --credentials or"
                        + " --tls-client-ca");
            }
            return AuthSettings.NONE;
        }
        boolean required = requireAuth == null || requireAuth;
        return AuthSettings.tokens(credentials, required).withAllowPlaintext(allowPlaintextAuth);
    }

    /**
     * The TLS listener the options ask for, or null when they give no certificate; its files are read now, and
     * again by {@code reloader} when they change.
     */
    private TlsListen tls(Reloader reloader) throws IOException {
        if (tlsCert == null && tlsKey == null) {
            if (tlsClientCa != null || tlsClientAuth != null) {
                throw new IllegalArgumentException("--tls-client-ca and --tls-client-auth need --tls-cert and"
                        + " --tls-key");
            }
            return null;
        }
        if (tlsCert == null || tlsKey == null) {
            throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key");
        }
        ClientAuth clientAuth = clientAuth();
        if (clientAuth != ClientAuth.NONE && tlsClientCa == null) {
            throw new IllegalArgumentException("--tls-client-auth " + clientAuth + " needs --tls-client-ca, the"
                    + " authorities client certificates must come from");
        }
        if (clientAuth == ClientAuth.NONE && tlsClientCa != null) {
            throw new IllegalArgumentException("--tls-client-ca is given but --tls-client-auth is none: no client"
                    + " certificate would ever be asked for; choose optional or required, or drop --tls-client-ca");
        }
        return TlsListen.reloading(tlsPort, new TlsListen.Files(tlsCert, tlsKey, tlsClientCa, clientAuth),
                tlsHandshakeTimeout, reloader);
    }

    /** The mode asked for, else required when a client CA is given, else none. */
    ClientAuth clientAuth() {
        if (tlsClientAuth != null) {
            return tlsClientAuth;
        }
        return tlsClientCa != null ? ClientAuth.REQUIRED : ClientAuth.NONE;
    }

    /** Reads {@code none}, {@code optional}, {@code required}, in any case. */
    static final class ClientAuthConverter implements CommandLine.ITypeConverter<ClientAuth> {
        @Override
        public ClientAuth convert(String value) {
            try {
                return ClientAuth.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /**
     * HTTPS and the /metrics token the options ask for; files are read now, so that a bad one stops the start, and
     * again by {@code reloader} when they change.
     */
    private HttpSecurity httpSecurity(Reloader reloader) throws IOException {
        if ((httpTlsCert == null) != (httpTlsKey == null)) {
            throw new IllegalArgumentException("HTTPS needs both --http-tls-cert and --http-tls-key");
        }
        return HttpSecurity.reloading(httpTlsCert, httpTlsKey, httpTokenFile, reloader);
    }
}
