package fr.mesures.capteur.cli;

import fr.mesures.capteur.CapteurFleet;
import fr.mesures.capteur.CapteurSettings;
import fr.mesures.capteur.ServerAddress;
import fr.mesures.capteur.auth.AuthToken;
import fr.mesures.capteur.network.Backoff;
import fr.mesures.capteur.source.LimitedSource;
import fr.mesures.capteur.source.ReplayedTemperatures;
import fr.mesures.capteur.source.SimulatedTemperatures;
import fr.mesures.capteur.source.TemperatureSource;
import fr.mesures.capteur.source.TypedTemperatures;
import fr.mesures.common.cli.BadUsage;
import fr.mesures.common.cli.DurationConverter;
import fr.mesures.common.cli.EnvironmentDefaults;
import fr.mesures.common.tls.TlsContexts;
import fr.mesures.common.tls.TlsFileException;
import fr.mesures.protocole.CapteurIds;
import fr.mesures.protocole.Durations;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code capteur} command: runs one sensor or K sensors against a server until their readings are all
 * acknowledged (with {@code --count}, or when the source ends) or until SIGTERM. Every option can also be set by
 * an environment variable, for containers.
 *
 * <p>Exit codes: 0 when every reading made was acknowledged, 1 when some were not (given up, dropped because the
 * buffer was full, or rejected by the server) or when the server refused the sensors' token or certificate (its
 * message on standard error; the sensors stop rather than retry), 2 for a bad command line.
 */
@Command(name = "capteur", mixinStandardHelpOptions = true, version = "capteur 0.1.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Sends temperature readings to the server and makes sure each one is stored.",
        footer = {"", "Every option can be set by its environment variable (shown in brackets).",
                "Exit codes: 0 all readings acknowledged, 1 some were not or the server refused the token or"
                        + " certificate, 2 bad command line."})
public final class CapteurCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(CapteurCommand.class);

    @Spec
    private CommandSpec spec;

    @Option(names = "--server", paramLabel = "HOST:PORT", converter = ServerAddressConverter.class,
            defaultValue = "localhost:" + ServerAddress.DEFAULT_PORT,
            description = "The server [CAPTEUR_SERVER] (default: ${DEFAULT-VALUE}).")
    private ServerAddress server;

    @Option(names = "--id", paramLabel = "ID",
            description = "The sensor's identifier; with --sensors K > 1 the sensors are ID_1 .. ID_K"
                    + " [CAPTEUR_ID] (default: the host name).")
    private String id;

    @Option(names = "--interval", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = CapteurSettings.DEFAULT_INTERVAL_TEXT,
            description = "Time between two readings of a sensor: 250ms, 1s, 5m; 0 = as fast as the server takes"
                    + " them [CAPTEUR_INTERVAL] (default: ${DEFAULT-VALUE}).")
    private Duration interval;

    @Option(names = "--count", paramLabel = "N",
            description = "Make N readings per sensor, wait until all are acknowledged, then exit [CAPTEUR_COUNT]"
                    + " (default: until stopped or until the source ends).")
    private Long count;

    @Option(names = "--give-up-after", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Exit 1 if the readings are not all acknowledged by then [CAPTEUR_GIVE_UP_AFTER].")
    private Duration giveUpAfter;

    @Option(names = "--sensors", paramLabel = "K", defaultValue = "1",
            description = "How many sensors this process runs, each with its own connection [CAPTEUR_SENSORS]"
                    + " (default: ${DEFAULT-VALUE}).")
    private int sensors;

    @Option(names = "--source", paramLabel = "SOURCE", converter = SourceSpec.Converter.class,
            defaultValue = "simulated",
            description = "simulated, stdin (one temperature per line) or replay:FILE (CSV or NDJSON)"
                    + " [CAPTEUR_SOURCE] (default: ${DEFAULT-VALUE}).")
    private SourceSpec source;

    @Option(names = "--seed", paramLabel = "SEED",
            description = "Seed of the simulated temperatures, to get the same ones again [CAPTEUR_SEED]"
                    + " (default: random, and logged).")
    private Long seed;

    @Option(names = "--max-unacked", paramLabel = "N", defaultValue = "" + CapteurSettings.DEFAULT_MAX_UNACKED,
            description = "Most readings a sensor keeps while waiting for acknowledgements; when full the oldest"
                    + " is dropped [CAPTEUR_MAX_UNACKED] (default: ${DEFAULT-VALUE}).")
    private int maxUnacked;

    @Option(names = "--connect-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = CapteurSettings.DEFAULT_CONNECT_TIMEOUT_TEXT,
            description = "Longest wait for a connection [CAPTEUR_CONNECT_TIMEOUT] (default: ${DEFAULT-VALUE}).")
    private Duration connectTimeout;

    @Option(names = "--ack-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = CapteurSettings.DEFAULT_ACK_TIMEOUT_TEXT,
            description = "Readings waiting this long without any acknowledgement mean the server is dead:"
                    + " reconnect [CAPTEUR_ACK_TIMEOUT] (default: ${DEFAULT-VALUE}).")
    private Duration ackTimeout;

    @Option(names = "--max-backoff", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = Backoff.Policy.DEFAULT_MAX_TEXT,
            description = "Longest delay between two connection attempts [CAPTEUR_MAX_BACKOFF]"
                    + " (default: ${DEFAULT-VALUE}).")
    private Duration maxBackoff;

    @Option(names = "--stop-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "5s",
            description = "On SIGTERM, how long to wait for the last acknowledgements [CAPTEUR_STOP_TIMEOUT]"
                    + " (default: ${DEFAULT-VALUE}).")
    private Duration stopTimeout;

    @Option(names = "--tls", description = "Speak TLS to the server, checking its certificate against the JVM's"
            + " trust store (or --tls-ca) and its host name [CAPTEUR_TLS].")
    private boolean tls;

    @Option(names = "--tls-ca", paramLabel = "FILE", description = "The authority (PEM) the server's certificate"
            + " must come from, for a private CA; implies --tls [CAPTEUR_TLS_CA].")
    private Path tlsCa;

    @Option(names = "--tls-insecure", description = "FOR TESTS ONLY: TLS without any certificate or host name"
            + " check, so anyone on the path can pose as the server (and take the token); implies --tls"
            + " [CAPTEUR_TLS_INSECURE].")
    private boolean tlsInsecure;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "This sensor's certificate (PEM), for a server"
            + " that asks for one (mutual TLS; its common name is the sensor's identity); with --tls-key; implies"
            + " --tls [CAPTEUR_TLS_CERT].")
    private Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "The private key (PEM) of --tls-cert"
            + " [CAPTEUR_TLS_KEY].")
    private Path tlsKey;

    @Option(names = "--token", paramLabel = "TOKEN", description = "The token the sensors prove who they are with,"
            + " sent first on every connection. Visible to other users in the process list: prefer CAPTEUR_TOKEN or"
            + " --token-file [CAPTEUR_TOKEN].")
    private String token;

    @Option(names = "--token-file", paramLabel = "FILE", description = "Read the token from FILE (the whitespace"
            + " around it removed) [CAPTEUR_TOKEN_FILE].")
    private Path tokenFile;

    private final InputStream stdin;
    private final Map<String, String> environment;

    public CapteurCommand() {
        this(System.in, System.getenv());
    }

    /**
     * @param stdin       what {@code --source stdin} reads
     * @param environment where the {@code CAPTEUR_*} variables are read
     */
    public CapteurCommand(InputStream stdin, Map<String, String> environment) {
        this.stdin = stdin;
        this.environment = environment;
    }

    /** A command line ready to execute, whose bad usage is one line on standard error and exit code 2. */
    public static CommandLine commandLine(CapteurCommand command) {
        CommandLine cl = new CommandLine(command);
        cl.setDefaultValueProvider(new EnvironmentDefaults("CAPTEUR", command.environment));
        cl.setParameterExceptionHandler(BadUsage.handler("capteur"));
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("capteur: " + e.getMessage());
            log.debug("failure", e);
            return 1;
        });
        return cl;
    }

    @Override
    public Integer call() throws InterruptedException {
        List<String> ids = CapteurFleet.ids(baseId(), sensors);
        validate(ids);
        long baseSeed = seed != null ? seed : ThreadLocalRandom.current().nextLong();
        CapteurSettings settings;
        List<TemperatureSource> sources;
        // The settings and sources check their own values; a bad one is the person's mistake, so it is reported as
        // bad usage (one line, exit 2) rather than checked here a second time.
        try {
            AuthToken authToken = authToken();
            boolean useTls = tls || tlsCa != null || tlsInsecure || tlsCert != null || tlsKey != null;
            settings = CapteurSettings.builder(server)
                    .interval(interval)
                    .maxUnacked(maxUnacked)
                    .connectTimeout(connectTimeout)
                    .ackTimeout(ackTimeout)
                    .backoff(backoff())
                    .tls(useTls ? TlsContexts.client(tlsCa, tlsCert, tlsKey, tlsInsecure) : null)
                    .token(authToken)
                    .build();
            warnAboutTheToken(authToken, useTls);
            sources = sources(baseSeed);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        } catch (TlsFileException e) {
            throw usage(e.getMessage());
        }
        describe(ids, baseSeed);
        CapteurFleet fleet = CapteurFleet.start(ids, sources::get, settings, System::currentTimeMillis);
        return runUntilDone(fleet);
    }

    /**
     * The token from --token (or CAPTEUR_TOKEN) or from --token-file, or null.
     *
     * @throws IllegalArgumentException for a token that cannot be used, or both ways at once (which one would win
     *                                  is a guess no one should have to make about a secret)
     */
    private AuthToken authToken() {
        if (token != null && tokenFile != null) {
            throw new IllegalArgumentException("--token (or CAPTEUR_TOKEN) and --token-file (or CAPTEUR_TOKEN_FILE)"
                    + " are both given: give one");
        }
        if (tokenFile != null) {
            return AuthToken.readFile(tokenFile);
        }
        if (token != null) {
            try {
                return new AuthToken(token);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--token: " + e.getMessage());
            }
        }
        return null;
    }

    private void warnAboutTheToken(AuthToken authToken, boolean useTls) {
        if (authToken == null) {
            return;
        }
        if (!useTls) {
            log.warn("the token is sent in clear (no --tls): anyone on the path can read it and pose as these"
                    + " sensors");
        } else if (tlsInsecure) {
            log.warn("the token is sent to whoever answers (--tls-insecure checks no certificate): for tests only");
        }
    }

    /** The default first delay, unless --max-backoff is shorter. */
    private Backoff.Policy backoff() {
        Duration initial = Backoff.Policy.DEFAULT.initial();
        return new Backoff.Policy(maxBackoff.compareTo(initial) < 0 ? maxBackoff : initial, maxBackoff);
    }

    /** What no constructor checks, or checks only once sensors are running. */
    private void validate(List<String> ids) {
        if (sensors < 1) {
            throw usage("--sensors must be at least 1, got " + sensors);
        }
        if (giveUpAfter != null && giveUpAfter.isZero()) {
            throw usage("--give-up-after must be longer than 0");
        }
        if (source instanceof SourceSpec.Stdin && sensors > 1) {
            throw usage("--source stdin feeds one sensor: use it without --sensors");
        }
        if (source instanceof SourceSpec.Replay replay && !Files.isReadable(replay.file())) {
            throw usage("cannot read the replay file " + replay.file());
        }
        String longest = ids.get(ids.size() - 1);
        if (!CapteurIds.isValid(longest)) {
            throw usage("--id: " + CapteurIds.problem(longest));
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private String baseId() {
        if (id != null && !id.isBlank()) {
            return id.strip();
        }
        return hostName();
    }

    /**
     * The host name, so that scaled containers get different identifiers without configuration. Read from the
     * environment given to the constructor, like the {@code CAPTEUR_*} variables.
     */
    String hostName() {
        String name = environment.get("HOSTNAME");
        if (name == null || name.isBlank()) {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                name = "capteur";
            }
        }
        return name.strip();
    }

    /**
     * Every sensor's source, made now rather than when the sensors start, so that a bad value (a replay file that
     * is not CSV nor NDJSON, a negative --count) is reported before anything runs.
     */
    private List<TemperatureSource> sources(long baseSeed) {
        List<TemperatureSource> list = new ArrayList<>(sensors);
        try {
            for (int i = 0; i < sensors; i++) {
                TemperatureSource origin;
                if (source instanceof SourceSpec.Replay replay) {
                    origin = ReplayedTemperatures.open(replay.file());
                } else if (source instanceof SourceSpec.Stdin) {
                    origin = new TypedTemperatures(stdin);
                } else {
                    origin = new SimulatedTemperatures(baseSeed + i);
                }
                list.add(origin);
                if (count != null) {
                    list.set(i, new LimitedSource(origin, count));
                }
            }
        } catch (IllegalArgumentException e) {
            list.forEach(TemperatureSource::close);
            throw e;
        }
        return list;
    }

    private void describe(List<String> ids, long baseSeed) {
        String who = ids.size() == 1 ? ids.get(0) : ids.size() + " sensors " + ids.get(0) + " .. "
                + ids.get(ids.size() - 1);
        String pace = source instanceof SourceSpec.Stdin ? "as typed"
                : interval.isZero() ? "as fast as possible" : "every " + Durations.format(interval);
        String what = source instanceof SourceSpec.Simulated ? "simulated temperatures (--seed " + baseSeed + ")"
                : source.toString();
        log.info("{} sending {} to {}, {}{}", who, what, server, pace,
                count == null ? "" : ", " + count + " readings each");
        if (source instanceof SourceSpec.Stdin && System.console() != null) {
            spec.commandLine().getErr().println("Type a temperature in °C and press Enter; Ctrl-D to finish.");
            spec.commandLine().getErr().flush();
        }
    }

    /** Waits for the sensors to finish, for the give-up deadline, or for SIGTERM, whichever comes first. */
    private int runUntilDone(CapteurFleet fleet) throws InterruptedException {
        AtomicReference<CapteurFleet.Outcome> stoppedBySignal = new AtomicReference<>();
        CountDownLatch hookDone = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            try {
                log.info("stopping: waiting up to {} ms for the last acknowledgements", stopTimeout.toMillis());
                CapteurFleet.Outcome outcome = fleet.stop(stopTimeout);
                stoppedBySignal.set(outcome);
                report(outcome);
                fleet.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                hookDone.countDown();
            }
        }, "capteur-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean finished;
        try {
            if (giveUpAfter == null) {
                fleet.awaitFinished();
                finished = true;
            } else {
                finished = fleet.awaitFinished(giveUpAfter);
            }
        } finally {
            if (!removeHook(hook)) {
                hookDone.await(); // SIGTERM arrived: the hook owns the ending
            }
        }
        if (stoppedBySignal.get() != null) {
            return stoppedBySignal.get().exitCode();
        }
        if (!finished) {
            log.error("giving up after {} ms: the readings are not all acknowledged", giveUpAfter.toMillis());
        }
        fleet.close();
        CapteurFleet.Outcome outcome = fleet.outcome();
        report(outcome);
        if (outcome.refusal() != null) {
            // The one line a person or a supervisor reads: the sensors stopped for good, and why.
            PrintWriter err = spec.commandLine().getErr();
            err.println("capteur: " + outcome.refusal().message());
            err.flush();
        }
        return outcome.exitCode();
    }

    private static boolean removeHook(Thread hook) {
        try {
            return Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            return false; // shutdown in progress
        }
    }

    private static void report(CapteurFleet.Outcome o) {
        if (o.allDelivered()) {
            log.info("done: {} readings made, all acknowledged by the server", o.produced());
        } else {
            log.warn("done: {} readings made, {} acknowledged, {} rejected by the server, {} dropped (buffer full),"
                    + " {} abandoned", o.produced(), o.acknowledged(), o.rejected(), o.dropped(), o.abandoned());
        }
    }
}
