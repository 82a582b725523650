package fr.mesures.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.systemtests.support.AckedStreams;
import fr.mesures.systemtests.support.Database;
import fr.mesures.systemtests.support.RawClient;
import fr.mesures.systemtests.support.Results;
import fr.mesures.systemtests.support.ServeurProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The real jar, with a thread of its pipeline killed by an OutOfMemoryError (the test seam
 * {@code -Dserveur.inject.error}) while 10 connections stream with acks: the process logs which thread died and
 * why, stops by itself with exit code 70 within a bound (for a supervisor to restart it), and every reading it
 * acknowledged is in the database. {@code ThreadDeathTest} checks {@code /health} in process, where the instant
 * between the failure and the exit can be held.
 */
class ThreadDeathIT {

    private static final int CONNECTIONS = 10;
    private static final Duration BOUND = Duration.ofSeconds(20);

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource({"selector, serveur-selector", "worker, serveur-worker-1", "writer, serveur-writer"})
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aDeadPipelineThreadStopsTheProcessWithExitCode70AndLosesNothingAcknowledged(String stage, String thread)
            throws Exception {
        Path db = dir.resolve(stage + ".db");
        ServeurProcess server = ServeurProcess.with(dir.resolve(stage + ".log"), "sqlite:" + db)
                .jvm("-Xmx128m", "-XX:+ExitOnOutOfMemoryError", "-Dserveur.inject.error=" + stage + ":boom")
                .args("--workers", "1").start();
        long exitNanos;
        long acked;
        try (AckedStreams clients = AckedStreams.Plan.of("vivant", CONNECTIONS).window(500).open(server.port())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> clients.acked() >= 20_000);
            long injected = System.nanoTime();
            try (RawClient boom = RawClient.connect(server.port())) {
                boom.send("{\"capteur_id\":\"boom\",\"temperature\":1}\n");
                assertThat(server.waitFor(BOUND)).as("stopped by itself; log:%n%s", server.logTail(30)).isTrue();
            }
            exitNanos = System.nanoTime() - injected;
            await().atMost(Duration.ofSeconds(30)).until(clients::allEnded);
            acked = 0;
            Database database = new Database(db);
            for (AckedStreams.State s : clients.states()) {
                long stored = database.count(s.capteurId());
                assertThat(stored).as("%s: every acknowledged reading stored (%s)", s.capteurId(), s)
                        .isGreaterThanOrEqualTo(s.acked());
                acked += s.acked();
            }
        } finally {
            server.close();
        }
        assertThat(server.process().exitValue()).isEqualTo(70);
        assertThat(server.errorLines()).anySatisfy(line -> assertThat(line).contains(thread + " died",
                "OutOfMemoryError: injected in the " + stage));
        assertThat(server.logText()).contains(thread + " died").contains("; stopped");
        Results.record("thread-death", String.format("%s killed by an injected OutOfMemoryError under %d connections:"
                + " exit 70 after %.2f s (bound %d s), %d readings acknowledged before, all stored", thread,
                CONNECTIONS, exitNanos / 1e9, BOUND.toSeconds(), acked));
    }
}
