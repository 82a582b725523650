package fr.mesures.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.systemtests.support.AckedStreams;
import fr.mesures.systemtests.support.Database;
import fr.mesures.systemtests.support.Results;
import fr.mesures.systemtests.support.ServeurProcess;
import fr.mesures.systemtests.support.SqliteShell;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code sqlite3} shell holds a write transaction on the server's database while clients stream: the server
 * waits and retries instead of failing readings, acknowledges nothing it has not committed, says in
 * {@code /health} what is happening, and catches up by itself when the lock goes.
 */
class DatabaseLockedIT {

    private static final int CONNECTIONS = 10;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void theServerWaitsOutALockedDatabaseAndSaysSo() throws Exception {
        Path db = dir.resolve("mesures.db");
        try (ServeurProcess server = ServeurProcess.with(dir.resolve("serveur.log"), "sqlite:" + db).start();
                AckedStreams clients = AckedStreams.Plan.of("verrouille", CONNECTIONS)
                        .interval(Duration.ofMillis(5)).window(100_000).open(server.port())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> clients.acked() >= 1000);
            double failuresBefore = server.metrics().sum("serveur_store_failures_total");

            long locked;
            long reported;
            AtomicReference<ServeurProcess.Health> problem = new AtomicReference<>();
            AtomicLong queuedWhileHealthy = new AtomicLong();
            long released;
            try (SqliteShell shell = SqliteShell.holdWriteLock(db, dir.resolve("sqlite3.out"))) {
                locked = System.nanoTime();
                // Health while SQLite itself waits out the lock (its busy timeout), then once the server has
                // given up on that attempt and retries: it must say the store cannot be written, and why.
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
                    ServeurProcess.Health health = server.health();
                    if (health.status() == 200) {
                        queuedWhileHealthy.accumulateAndGet(health.queued(), Math::max);
                        return false;
                    }
                    problem.set(health);
                    return true;
                });
                reported = System.nanoTime();
                assertThat(problem.get().writable()).as("writable in %s", problem.get()).isFalse();
                assertThat(problem.get().problem()).containsIgnoringCase("locked");
                assertThat(server.metrics().sum("serveur_store_failures_total")).isGreaterThan(failuresBefore);
                // Nothing is acknowledged while nothing can be committed.
                long ackedDuringLock = clients.acked();
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                        .until(() -> clients.acked() == ackedDuringLock);
                shell.release();
                released = System.nanoTime();
            }
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> server.health().status() == 200);
            long recovered = System.nanoTime();
            assertThat(server.health().writable()).isTrue();

            clients.stop();
            await().atMost(Duration.ofSeconds(60)).until(clients::allEnded);
            Database database = new Database(db);
            long total = 0;
            for (AckedStreams.State s : clients.states()) {
                assertThat(s.errors()).as("error lines: the server must wait, not fail readings").isEmpty();
                assertThat(s.end()).isEqualTo("finished");
                assertThat(s.acked()).as("%s: the final ack covers everything it made", s.capteurId())
                        .isEqualTo(s.produced());
                List<Database.Row> rows = database.rows(s.capteurId());
                assertThat(rows).hasSize((int) s.produced());
                for (int i = 0; i < rows.size(); i++) {
                    assertThat(rows.get(i).timestamp()).isEqualTo(s.firstTimestamp() + i);
                }
                total += rows.size();
            }
            assertThat(database.count("verrou")).as("the shell's rolled-back row").isZero();
            assertThat(server.errorLines()).isEmpty();
            Results.record("database-locked", String.format("sqlite3 held BEGIN IMMEDIATE for %.1f s under %d "
                    + "connections: /health stayed 200 for %.1f s (SQLite's busy timeout; queued grew to %d), then 503 "
                    + "'%s'; acks paused; back to 200 %.1f s after the release; %d readings, all acked and stored "
                    + "once, 0 error lines", (released - locked) / 1e9, CONNECTIONS, (reported - locked) / 1e9,
                    queuedWhileHealthy.get(), problem.get().problem(), (recovered - released) / 1e9, total));
        }
    }
}
