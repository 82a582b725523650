package fr.mesures.bench.charge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import fr.mesures.serveur.ServeurSettings;
import fr.mesures.serveur.ServeurTCP;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load generator against a real server, started in-process on an ephemeral port. */
class LoadGeneratorTest {

    @TempDir
    Path tmp;

    private ServeurTCP serveur;

    @AfterEach
    void stop() {
        if (serveur != null) {
            serveur.close();
        }
    }

    private Path start(ServeurSettings.Builder settings) throws Exception {
        Path db = tmp.resolve("mesures.db");
        serveur = new ServeurTCP(settings.bind("127.0.0.1").port(0).httpPort(-1).store("sqlite:" + db).build());
        serveur.start();
        return db;
    }

    private LoadOptions load(Workload w, double rate, boolean acks, Duration warmup) {
        return new LoadOptions("127.0.0.1", serveur.port(), w, rate, acks, false, 1, 64, Duration.ofSeconds(60),
                warmup, false);
    }

    @Test
    void everyReadingIsAckedAndStoredAndEachHasALatency() throws Exception {
        Path db = start(ServeurSettings.builder());
        Workload w = new Workload(20_000, 20, 100, Workload.DEFAULT_BASE_MILLIS);

        LoadResult r = new LoadGenerator(load(w, 0, true, Duration.ZERO)).run();

        assertThat(r.errors().samples()).isEmpty();
        assertThat(r.ok()).isTrue();
        assertThat(r.ackedReadings()).isEqualTo(20_000);
        assertThat(r.latencies().getTotalCount()).isEqualTo(20_000);
        assertThat(r.held()).isEqualTo(20);
        assertThat(r.elapsedSeconds()).isPositive();
        assertThat(r.readingsPerSecond()).isPositive();
        assertThat(r.toJson()).startsWith("{\"tool\":\"charge\",\"ok\":true,\"mode\":\"acks\"")
                .contains("\"readings\":20000", "\"acked_readings\":20000");
        assertThat(rows(db)).isEqualTo(20_000);
    }

    @Test
    void atAFixedRateEveryConnectionIsHeldUntilTheLastIsDone() throws Exception {
        start(ServeurSettings.builder());
        // 4 connections at 2 readings/s, their phases 125 ms apart: the first is done 375 ms before the last.
        Workload w = new Workload(12, 4, 4, Workload.DEFAULT_BASE_MILLIS);
        FutureTask<LoadResult> run = new FutureTask<>(() -> new LoadGenerator(load(w, 2, true, Duration.ZERO)).run());
        new Thread(run, "charge-test").start();

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (serveur.activeConnections() < 4) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.onSpinWait();
        }
        while (serveur.activeConnections() == 4) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.onSpinWait();
        }
        // The first close comes with the others, when the generator is done: not 375 ms before its end.
        LoadResult r = run.get(200, TimeUnit.MILLISECONDS);
        assertThat(r.ok()).isTrue();
        assertThat(r.ackedReadings()).isEqualTo(12);
    }

    @Test
    void fireAndForgetStillWaitsForTheFinalAck() throws Exception {
        Path db = start(ServeurSettings.builder());
        Workload w = new Workload(5_000, 5, 50, Workload.DEFAULT_BASE_MILLIS);

        LoadResult r = new LoadGenerator(load(w, 0, false, Duration.ZERO)).run();

        assertThat(r.errors().samples()).isEmpty();
        assertThat(r.ok()).isTrue();
        assertThat(r.ackedReadings()).isEqualTo(5_000);
        assertThat(rows(db)).isEqualTo(5_000);
    }

    @Test
    void atAFixedRateEachReadingGoesOutOnScheduleAndTheWarmUpIsNotMeasured() throws Exception {
        start(ServeurSettings.builder());
        // 10 connections, 4 readings each at 20/s: 150 ms to send; the first 50 ms are a warm-up. Reading j of
        // connection c is due at c × 5 ms + j × 50 ms, and a reading's latency counts from when it was due: j = 0
        // is due before 50 ms for every c, j = 1..3 from 50 ms on, so exactly 30 are measured, however late the
        // generator or the server is.
        Workload w = new Workload(40, 10, 10, Workload.DEFAULT_BASE_MILLIS);

        LoadResult r = new LoadGenerator(load(w, 20, true, Duration.ofMillis(50))).run();

        assertThat(r.errors().samples()).isEmpty();
        assertThat(r.ok()).isTrue();
        assertThat(r.ackedReadings()).isEqualTo(40);
        assertThat(r.latencies().getTotalCount()).isEqualTo(30);
        assertThat(r.sendSeconds()).isBetween(0.14, 5.0);
    }

    @Test
    void progressPrintsALineASecondWhileSending() throws Exception {
        start(ServeurSettings.builder());
        // 2 connections, 15 readings each at 10/s: about 1.5 s of sending, so one line, one second in.
        Workload w = new Workload(30, 2, 2, Workload.DEFAULT_BASE_MILLIS);
        LoadOptions options = new LoadOptions("127.0.0.1", serveur.port(), w, 10, true, false, 1, 64,
                Duration.ofSeconds(60), Duration.ZERO, true);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream before = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        LoadResult r;
        try {
            r = new LoadGenerator(options).run();
        } finally {
            System.setErr(before);
        }

        assertThat(r.ok()).isTrue();
        assertThat(err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("[charge-0 ")))
                .isNotEmpty()
                .allMatch(l -> l.startsWith("[charge-0 +1.0s] "), "one line, a second after the first byte");
    }

    @Test
    void connectionsTheServerRefusesAreCountedAsErrors() throws Exception {
        start(ServeurSettings.builder().maxConnections(3));
        Workload w = new Workload(600, 6, 6, Workload.DEFAULT_BASE_MILLIS);

        LoadResult r = new LoadGenerator(load(w, 0, true, Duration.ZERO)).run();

        assertThat(r.ok()).isFalse();
        assertThat(r.errors().total()).isGreaterThanOrEqualTo(3);
        assertThat(r.held()).isLessThanOrEqualTo(3);
        assertThat(r.toHuman()).startsWith("FAILED");
    }

    @Test
    void aDriverThatCannotGoOnFailsTheRunInsteadOfHangingIt() {
        // A name the drivers cannot resolve (Charge resolves names up front; LoadOptions given one directly does
        // not): the driver thread meets an unchecked exception before it has connected anything. The main thread
        // must still get past its wait for the drivers.
        Workload w = new Workload(100, 4, 4, Workload.DEFAULT_BASE_MILLIS);
        LoadOptions options = new LoadOptions("no-such-host.invalid", 5050, w, 0, true, false, 2, 64,
                Duration.ofSeconds(60), Duration.ZERO, false);

        LoadResult r = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> new LoadGenerator(options).run());

        assertThat(r.ok()).isFalse();
        assertThat(r.errors().counts()).containsEntry("internal", 2L);
        assertThat(r.connected()).isZero();
        assertThat(r.held()).isZero();
    }

    @Test
    void connectionsStillPendingAtTheTimeoutFailAndTheRunEnds() throws Exception {
        // A listener that never accepts, with a backlog of 1: Linux queues 2 connections and then drops the SYNs,
        // so the others stay pending (or, one attempt at a time, never start) until the timeout.
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Workload w = new Workload(100, 10, 10, Workload.DEFAULT_BASE_MILLIS);
            LoadOptions options = new LoadOptions("127.0.0.1", full.getLocalPort(), w, 0, true, false, 1, 1,
                    Duration.ofMillis(500), Duration.ZERO, false);

            LoadResult r = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> new LoadGenerator(options).run());

            assertThat(r.ok()).isFalse();
            assertThat(r.errors().counts()).doesNotContainKey("internal");
            // Each connection is accounted for once: timed out while connecting, or connected and then timed out.
            assertThat(r.errors().counts().getOrDefault("connect_timeout", 0L) + r.connected()).isEqualTo(10);
            assertThat(r.errors().counts().get("connect_timeout")).isPositive();
            assertThat(r.held()).isZero();
        }
    }

    @Test
    void aReplyCutByTheEndOfTheStreamIsAnError() throws Exception {
        // A peer that reads the acks request, answers half an ack and closes.
        try (ServerSocket peer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try (Socket s = peer.accept()) {
                    s.getInputStream().read(new byte[100]);
                    s.getOutputStream().write("{\"ack\":1".getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // the test's assertions say what went wrong
                }
            });
            server.start();
            Workload w = new Workload(1, 1, 1, Workload.DEFAULT_BASE_MILLIS);
            LoadOptions options = new LoadOptions("127.0.0.1", peer.getLocalPort(), w, 0, true, false, 1, 1,
                    Duration.ofSeconds(30), Duration.ZERO, false);

            LoadResult r = new LoadGenerator(options).run();
            server.join();

            assertThat(r.ok()).isFalse();
            assertThat(r.errors().counts()).containsEntry("cut_line", 1L).containsEntry("closed_early", 1L);
        }
    }

    private static long rows(Path db) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM mesures")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
