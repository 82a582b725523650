package fr.mesures.bench.charge;

import fr.mesures.bench.report.JfrSummary;
import fr.mesures.bench.report.Report;
import fr.mesures.common.cli.DurationConverter;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.TlsFileException;
import fr.mesures.common.tls.Validity;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The load generator's command line. Without a subcommand it runs a load and prints two lines: one for a person,
 * then one JSON object (the last line, starting with '{') for scripts. Exit code 0 when every connection held and
 * every reading was acknowledged without error, 1 otherwise, 2 for a bad command line, 3 when it could not run.
 */
@Command(name = "charge", mixinStandardHelpOptions = true, version = "charge 0.1.0", sortOptions = false,
        usageHelpAutoWidth = true,
        subcommands = {Charge.Rows.class, Charge.Pki.class, Report.class, JfrSummary.class},
        description = {
            "Sends temperature readings to a serveur over C connections and measures readings/s from the first byte"
                    + " to the last ack, and ack latency.",
            "Every reading has its own (capteur_id, timestamp), so the store must keep all of them."})
public final class Charge implements Callable<Integer> {

    /** Exit code when a command could not do its work at all (an exception), as opposed to 1, a failed result. */
    public static final int COULD_NOT_RUN = 3;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "server address (default ${DEFAULT-VALUE})")
    String host;

    @Option(names = {"-p", "--port"}, description = "server port (required for a load)")
    int port;

    @Option(names = {"-c", "--connections"}, defaultValue = "100", converter = Count.class,
            description = "connections (default ${DEFAULT-VALUE})")
    long connections;

    @Option(names = {"-n", "--readings"}, defaultValue = "1000000", converter = Count.class,
            description = "readings in total, over all connections (default ${DEFAULT-VALUE}; 1M, 200k are fine)")
    long readings;

    @Option(names = {"-s", "--sensors"}, defaultValue = "1000", converter = Count.class,
            description = "distinct capteur_id values (default ${DEFAULT-VALUE})")
    long sensors;

    @Option(names = "--rate", paramLabel = "N/UNIT", converter = RateConverter.class,
            description = "readings per second per connection, e.g. 1/s, 500/s, 60/min; default: full speed")
    double rate;

    @Option(names = "--no-acks", description = "fire-and-forget: no acks request; send everything, half-close, "
            + "then wait for the server's final ack (the time is still to the last ack)")
    boolean noAcks;

    @Option(names = "--sink", description = "the peer is a raw sink (socat to a file): it never acks, its end of "
            + "stream after our half-close means done (implies --no-acks)")
    boolean sink;

    @Option(names = "--threads", defaultValue = "1", description = "selector threads (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--connect-in-flight", defaultValue = "256",
            description = "connection attempts at once (default ${DEFAULT-VALUE})")
    int connectInFlight;

    @Option(names = "--timeout", defaultValue = "10m", converter = DurationConverter.class,
            description = "give up after this long (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Option(names = "--warmup", defaultValue = "0s", converter = DurationConverter.class,
            description = "with --rate: readings due in this first part of the run are sent and acked, but their"
                    + " latency is not recorded (default ${DEFAULT-VALUE})")
    Duration warmup;

    @Option(names = "--progress", description = "one line a second per thread on standard error: readings acked"
            + " (measured), the ack latency p99 and maximum of that second, the send lag of that second, connections"
            + " left (to find when a run went wrong)")
    boolean progress;

    @Option(names = "--base-millis", defaultValue = "" + Workload.DEFAULT_BASE_MILLIS,
            description = "timestamp of the first reading, epoch ms (default ${DEFAULT-VALUE})")
    long baseMillis;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "every connection over TLS, trusting the authorities of this PEM file alone; the server's"
                    + " certificate must name --host (see the pki command). Each connection makes a full handshake")
    Path tlsCa;

    @Option(names = "--handshakes", description = "with --tls-ca: no readings; open every connection (at most"
            + " --connect-in-flight at once), complete its TLS handshake, hold it until all are settled, then close;"
            + " reports how long that took and each handshake's time")
    boolean handshakes;

    @Option(names = "--tls-warmup", paramLabel = "N", defaultValue = "0",
            description = "with --tls-ca: first make N TLS handshakes in memory, in this process, so that its TLS code"
                    + " is compiled before anything is timed (nothing reaches the server; default ${DEFAULT-VALUE})")
    int tlsWarmup;

    public static void main(String[] args) {
        // The TLS code logs through SLF4J, and this jar carries no logging backend: without this, SLF4J's three
        // lines of warning about it would open every run's output.
        System.setProperty("slf4j.internal.verbosity", "ERROR");
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Charge());
        cli.setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("charge: " + e.getMessage() + " (see --help)");
            return 2;
        });
        // Not 1, which means "ran, and the load or a target failed": a script must tell a failed measurement from
        // a step that could not run (a file missing, a bug).
        cli.setExecutionExceptionHandler((e, c, parsed) -> {
            c.getErr().println("charge: could not run: " + e);
            e.printStackTrace(c.getErr());
            return COULD_NOT_RUN;
        });
        return cli;
    }

    @Override
    public Integer call() throws InterruptedException, IOException {
        LoadOptions options;
        try {
            if (port == 0) {
                throw new IllegalArgumentException("say which port the server listens on with --port");
            }
            if (connections > Integer.MAX_VALUE || sensors > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("too many connections or sensors");
            }
            if (tlsWarmup < 0 || (tlsWarmup > 0 && tlsCa == null)) {
                throw new IllegalArgumentException("--tls-warmup takes a count of handshakes, with --tls-ca");
            }
            TlsTarget tls = tlsCa == null ? null : TlsTarget.trusting(tlsCa, host);
            // Timing handshakes sends no readings, whatever -n says.
            Workload workload = new Workload(handshakes ? 0 : readings, (int) connections, (int) sensors, baseMillis);
            options = new LoadOptions(address(host), port, workload, rate, !noAcks && !sink, sink, threads,
                    connectInFlight, timeout, warmup, progress, tls, handshakes);
        } catch (IllegalArgumentException | TlsFileException e) {
            System.err.println("charge: " + e.getMessage());
            return 2;
        }
        if (tlsWarmup > 0) {
            System.err.printf(Locale.ROOT, "TLS warm-up: %,d handshakes in memory in %.1f s%n", tlsWarmup,
                    TlsWarmUp.run(tlsWarmup));
        }
        LoadResult result = new LoadGenerator(options).run();
        System.out.println(result.toHuman());
        System.out.println(result.toJson());
        return result.ok() ? 0 : 1;
    }

    /**
     * The host as an address literal, resolved here once: a name that does not resolve is a bad command line (and
     * the drivers, given a literal, never go to the resolver in the middle of a run).
     */
    static String address(String host) {
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve --host " + host);
        }
    }

    /** The same readings as CSV rows for the sqlite3 shell's .import (table mesures' column order). */
    @Command(name = "rows", mixinStandardHelpOptions = true,
            description = "Writes the readings of a load as CSV rows: capteur_id,timestamp,temperature,received_at.")
    static final class Rows implements Callable<Integer> {
        @Option(names = {"-n", "--readings"}, defaultValue = "1000000", converter = Count.class)
        long readings;

        @Option(names = {"-s", "--sensors"}, defaultValue = "1000", converter = Count.class)
        long sensors;

        @Option(names = "--base-millis", defaultValue = "" + Workload.DEFAULT_BASE_MILLIS)
        long baseMillis;

        @Option(names = {"-o", "--output"}, description = "file to write (default: standard output)")
        Path output;

        @Override
        public Integer call() throws IOException {
            Workload w = new Workload(readings, 1, (int) sensors, baseMillis);
            try (OutputStream out = new BufferedOutputStream(output == null ? System.out
                    : Files.newOutputStream(output), 1 << 20)) {
                w.writeCsv(out, baseMillis);
            }
            return 0;
        }
    }

    /** The benchmark's certificates, so that bench/run.sh needs no openssl. */
    @Command(name = "pki", mixinStandardHelpOptions = true,
            description = {"Writes a private authority and a server certificate it signed, as PEM files in a folder:"
                    + " ca.pem (for --tls-ca), serveur.crt and serveur.key (for the serveur's --tls-cert and"
                    + " --tls-key).", "The server key is EC P-256, as a sensor deployment's would be."})
    static final class Pki implements Callable<Integer> {
        @Option(names = {"-d", "--dir"}, required = true, description = "the folder (made if missing)")
        Path dir;

        @Option(names = "--name", defaultValue = "localhost,127.0.0.1", split = ",",
                description = "the server's host names and IP addresses (default ${DEFAULT-VALUE})")
        List<String> names;

        @Option(names = "--valid-for", defaultValue = "1d", converter = DurationConverter.class,
                description = "how long the certificates are valid (default ${DEFAULT-VALUE})")
        Duration validFor;

        @Override
        public Integer call() throws IOException {
            Files.createDirectories(dir);
            PrivatePki pki = PrivatePki.create(dir, names, Validity.fromNow(validFor), KeyFormat.PKCS8);
            System.out.println(pki.authority() + " " + pki.certificate() + " " + pki.key());
            return 0;
        }
    }

    /** Counts: 1000000, 1_000_000, 1,000,000, 1M, 200k. */
    static final class Count implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            String v = value.replace("_", "").replace(",", "").trim().toLowerCase(Locale.ROOT);
            long scale = 1;
            if (v.endsWith("k")) {
                scale = 1_000;
            } else if (v.endsWith("m")) {
                scale = 1_000_000;
            }
            if (scale > 1) {
                v = v.substring(0, v.length() - 1);
            }
            try {
                long n = Long.parseLong(v) * scale;
                if (n < 0) {
                    throw new CommandLine.TypeConversionException("'" + value + "' is negative");
                }
                return n;
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a count");
            }
        }
    }

    /** {@code 1/s}, {@code 500/s}, {@code 0.5/s}, {@code 60/min}, {@code 2/ms}, or a plain number per second. */
    static final class RateConverter implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            String v = value.trim().toLowerCase(Locale.ROOT);
            double perUnit;
            double unitSeconds = 1;
            int slash = v.indexOf('/');
            try {
                if (slash < 0) {
                    perUnit = Double.parseDouble(v);
                } else {
                    perUnit = Double.parseDouble(v.substring(0, slash));
                    unitSeconds = switch (v.substring(slash + 1)) {
                        case "s", "sec" -> 1;
                        case "ms" -> 0.001;
                        case "min", "m" -> 60;
                        case "h" -> 3600;
                        default -> throw new CommandLine.TypeConversionException("unknown unit in '" + value
                                + "' (use /s, /ms, /min or /h)");
                    };
                }
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a rate like 1/s");
            }
            if (!(perUnit > 0) || Double.isInfinite(perUnit)) {
                throw new CommandLine.TypeConversionException("the rate must be positive");
            }
            return perUnit / unitSeconds;
        }
    }
}
