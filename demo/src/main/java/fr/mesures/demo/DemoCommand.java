package fr.mesures.demo;

import fr.mesures.capteur.CapteurFleet;
import fr.mesures.capteur.CapteurSettings;
import fr.mesures.capteur.source.SimulatedTemperatures;
import fr.mesures.common.cli.DurationConverter;
import fr.mesures.protocole.Durations;
import fr.mesures.serveur.ServeurSettings;
import fr.mesures.serveur.ServeurTCP;
import fr.mesures.serveur.storage.StoreException;
import fr.mesures.serveur.storage.StoreSpec;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The exercise's main program: starts the server (SQLite by default) and K simulated sensors in one process,
 * tells the person where the readings go and how to look at them, reports progress every few seconds, and stops
 * cleanly on Ctrl-C (the sensors deliver what they hold, then the server commits and closes).
 *
 * <p>Threads: the server's own (selector, workers, writer, HTTP), the sensors' one I/O thread, this command's
 * thread printing the progress line, and on Ctrl-C the JVM's shutdown hook that stops sensors then server.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, version = "demo 0.1.0", sortOptions = false,
        usageHelpAutoWidth = true,
        description = "Runs the server and a few simulated sensors together, to watch readings arrive.")
public final class DemoCommand implements Callable<Integer> {

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    @Spec
    private CommandSpec spec;

    @Option(names = "--sensors", paramLabel = "K", defaultValue = "5",
            description = "Simulated sensors, capteur_1 .. capteur_K (default: ${DEFAULT-VALUE}).")
    private int sensors;

    @Option(names = "--interval", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = CapteurSettings.DEFAULT_INTERVAL_TEXT,
            description = "Time between two readings of a sensor (default: ${DEFAULT-VALUE}).")
    private Duration interval;

    @Option(names = "--store", paramLabel = "KIND:PATH", defaultValue = ServeurSettings.DEFAULT_STORE,
            description = "Where readings go: sqlite:PATH or file:PATH (default: ${DEFAULT-VALUE}).")
    private String store;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "" + ServeurSettings.DEFAULT_PORT,
            description = "TCP port of the server, 0 for any free one (default: ${DEFAULT-VALUE}).")
    private int port;

    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "" + ServeurSettings.DEFAULT_HTTP_PORT,
            description = "Port of /metrics and /health, 0 for any free one, -1 for none"
                    + " (default: ${DEFAULT-VALUE}).")
    private int httpPort;

    @Option(names = "--status-every", paramLabel = "DURATION", converter = DurationConverter.class,
            defaultValue = "5s", description = "How often to print the progress line (default: ${DEFAULT-VALUE}).")
    private Duration statusEvery;

    @Option(names = "--run-for", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Stop by itself after this long (default: until Ctrl-C).")
    private Duration runFor;

    /** A command line whose bad usage is one line and exit code 2. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new DemoCommand());
        cl.setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("demo: " + e.getMessage().replace('\n', ' ') + " (see --help)");
            return 2;
        });
        return cl;
    }

    @Override
    public Integer call() throws InterruptedException {
        if (sensors < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--sensors must be at least 1");
        }
        if (interval.isZero() || statusEvery.isZero()) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--interval and --status-every must be longer than 0");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        StoreSpec where;
        try {
            where = StoreSpec.parse(store);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        ServeurTCP serveur;
        try {
            serveur = new ServeurTCP(ServeurSettings.builder().bind("127.0.0.1").port(port).httpPort(httpPort)
                    .store(where).build());
        } catch (IllegalArgumentException e) {
            // A value the server's settings refuse (--http-port -5): the person's mistake, as in serveur's Main.
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        } catch (StoreException e) {
            err.println("demo: cannot open the store " + where + ": " + e.getMessage());
            return 2;
        }
        try {
            serveur.start();
        } catch (UncheckedIOException e) {
            err.println("demo: cannot listen (" + e.getMessage() + "); is another server running? try --port 0"
                    + " --http-port 0");
            return 2;
        }
        // capteur_1 .. capteur_K even for one sensor, as in the exercise's example message.
        List<String> ids = IntStream.rangeClosed(1, sensors).mapToObj(i -> "capteur_" + i).toList();
        long seed = ThreadLocalRandom.current().nextLong();
        CapteurFleet fleet;
        try {
            fleet = CapteurFleet.start(ids, i -> new SimulatedTemperatures(seed + i),
                    CapteurSettings.builder("127.0.0.1", serveur.port()).interval(interval).build(),
                    System::currentTimeMillis);
        } catch (RuntimeException e) {
            serveur.close(); // no shutdown hook is there yet to close it
            throw e;
        }
        printWelcome(out, serveur, where, ids);

        CountDownLatch stopped = new CountDownLatch(1);
        CountDownLatch stopping = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stopping.countDown();
            stopAll(fleet, serveur, out, where);
            stopped.countDown();
        }, "demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);

        long deadline = runFor == null ? Long.MAX_VALUE : System.nanoTime() + runFor.toNanos();
        while (System.nanoTime() < deadline) {
            long wait = Math.min(statusEvery.toNanos(), deadline - System.nanoTime());
            if (stopping.await(Math.max(0, wait), TimeUnit.NANOSECONDS)) {
                stopped.await(); // Ctrl-C: the hook stops everything and prints the last line
                return 0;
            }
            out.printf("%s  %,d readings stored%s%n", LocalTime.now().format(CLOCK), fleet.acknowledged(),
                    fleet.connectionFailures() > 0 ? " (" + fleet.connectionFailures() + " connection failures)" : "");
            out.flush();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            stopped.await(); // Ctrl-C came just now
            return 0;
        }
        stopAll(fleet, serveur, out, where);
        return 0;
    }

    private void printWelcome(PrintWriter out, ServeurTCP serveur, StoreSpec where, List<String> ids) {
        out.println();
        out.printf("Server listening on 127.0.0.1:%d, storing readings in %s%n", serveur.port(),
                where.path().toAbsolutePath().normalize());
        out.printf("%d simulated sensors (%s) send a reading every %s.%n", ids.size(),
                ids.size() == 1 ? ids.get(0) : ids.get(0) + " .. " + ids.get(ids.size() - 1),
                Durations.format(interval));
        out.println();
        out.println("Look at the data from another terminal:");
        if (where.kind() == StoreSpec.Kind.SQLITE) {
            out.printf("  sqlite3 %s \"SELECT * FROM mesures_lisibles ORDER BY timestamp DESC LIMIT 10;\"%n",
                    where.path());
            out.printf("  sqlite3 %s \"SELECT capteur_id, count(*), avg(temperature) FROM mesures GROUP BY"
                    + " capteur_id;\"%n", where.path());
        } else {
            out.printf("  tail -f %s%n", where.path());
        }
        if (serveur.httpPort() > 0) {
            out.printf("  curl -s http://127.0.0.1:%d/metrics | grep ^serveur_readings%n", serveur.httpPort());
        }
        out.printf("Send a reading of your own:%n  echo '{\"capteur_id\": \"moi\", \"temperature\": 21.5}'"
                + " > /dev/tcp/127.0.0.1/%d%n", serveur.port());
        out.println();
        out.println("Ctrl-C stops (the sensors deliver what they hold, the server commits, then both exit).");
        out.flush();
    }

    private static void stopAll(CapteurFleet fleet, ServeurTCP serveur, PrintWriter out, StoreSpec where) {
        try {
            CapteurFleet.Outcome outcome = fleet.stop(Duration.ofSeconds(5));
            fleet.close();
            serveur.close();
            out.printf("%nStopped: %,d readings stored in %s%s%n", outcome.acknowledged(), where.path(),
                    outcome.allDelivered() ? "" : " (" + (outcome.produced() - outcome.acknowledged())
                            + " not delivered)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            serveur.close();
        }
        out.flush();
    }
}
