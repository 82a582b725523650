package fr.mesures.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.systemtests.support.CapteurProcess;
import fr.mesures.systemtests.support.Database;
import fr.mesures.systemtests.support.Results;
import fr.mesures.systemtests.support.ServeurProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real sensors (capteur.jar, two processes of 8 sensors each) through repeated kill -9 and restarts of the
 * server on the same port and database: every sensor exits 0, and the database holds exactly the readings they
 * made, none missing, none twice.
 *
 * <p>How the test knows the exact set: one process replays a CSV file with known timestamps and temperatures, so
 * every key and value is known in advance; the other simulates with {@code --count N}, so each of its sensors
 * must have exactly N rows (a reading lost or stored under a second key would change the count).
 */
class CapteurRestartsIT {

    private static final int SENSORS = 8;
    /**
     * 40 s of sending at 4 ms (16 sensors): long enough for the 6 or more kills the test needs. With 5,000 (20 s) a
     * run of long server lives and outages let the sensors finish after 5 kills (a CI run of 2026-12-03).
     */
    private static final int READINGS = 10_000;
    private static final int KILLS = 8;
    private static final long FIRST = 1_650_000_000_000L;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void sensorsDeliverEveryReadingExactlyOnceThroughRepeatedKills() throws Exception {
        long seed = Long.getLong("capteur.seed", System.nanoTime());
        Random random = new Random(seed);
        Path db = dir.resolve("mesures.db");
        Path csv = dir.resolve("rejeu.csv");
        List<String> lines = new ArrayList<>(List.of("timestamp,temperature"));
        for (int i = 0; i < READINGS; i++) {
            lines.add((FIRST + i * 1000L) + "," + temperature(i));
        }
        Files.write(csv, lines);

        long started = System.nanoTime();
        ServeurProcess server = ServeurProcess.with(dir.resolve("serveur.log"), "sqlite:" + db).start();
        int kills = 0;
        List<Long> storedAtKill = new ArrayList<>();
        String replayOutput;
        String simulatedOutput;
        // Right after the start: if a sensor cannot be started, the server is stopped here, not by a shutdown hook.
        try {
            String address = "127.0.0.1:" + server.port();
            List<String> common = List.of("--server", address, "--sensors", String.valueOf(SENSORS), "--interval",
                    "4ms", "--max-backoff", "300ms", "--give-up-after", "200s");
            try (CapteurProcess replay = CapteurProcess.start(dir.resolve("rejeu.log"),
                    args(common, "--id", "rejeu", "--source", "replay:" + csv));
                    CapteurProcess simulated = CapteurProcess.start(dir.resolve("simu.log"),
                            args(common, "--id", "simu", "--count", String.valueOf(READINGS), "--seed", "6"))) {
                while (kills < KILLS && (replay.alive() || simulated.alive())) {
                    // A varied amount of work into this server's life, then SIGKILL, then a varied outage.
                    long target = 1000 + random.nextInt(4000);
                    ServeurProcess running = server;
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() ->
                            running.metrics().count("serveur_readings_stored_total") >= target
                                    || !replay.alive() && !simulated.alive());
                    if (!replay.alive() && !simulated.alive()) {
                        break;
                    }
                    storedAtKill.add(running.metrics().count("serveur_readings_stored_total"));
                    running.kill();
                    kills++;
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(random.nextInt(1500)));
                    server = running.restart();
                }
                assertThat(replay.waitFor(Duration.ofSeconds(200))).as("replay exit code; output:%n%s",
                        replay.output()).isZero();
                assertThat(simulated.waitFor(Duration.ofSeconds(200))).as("simulated exit code; output:%n%s",
                        simulated.output()).isZero();
                replayOutput = replay.output();
                simulatedOutput = simulated.output();
            }
        } finally {
            server.close();
        }
        assertThat(kills).as("kills before the sensors finished (the run must overlap them)")
                .isGreaterThanOrEqualTo(6);

        Database database = new Database(db);
        Map<String, List<Database.Row>> replayed = database.rowsByCapteur("rejeu_");
        assertThat(replayed).hasSize(SENSORS);
        for (int k = 1; k <= SENSORS; k++) {
            List<Database.Row> rows = replayed.get("rejeu_" + k);
            assertThat(rows).as("rejeu_%d", k).hasSize(READINGS);
            for (int i = 0; i < READINGS; i++) {
                assertThat(rows.get(i)).isEqualTo(new Database.Row("rejeu_" + k, FIRST + i * 1000L,
                        temperature(i)));
            }
        }
        Map<String, List<Database.Row>> simulatedRows = database.rowsByCapteur("simu_");
        assertThat(simulatedRows).hasSize(SENSORS);
        simulatedRows.forEach((id, rows) -> assertThat(rows).as(id).hasSize(READINGS));
        assertThat(database.count()).as("no reading from anywhere else").isEqualTo(2L * SENSORS * READINGS);
        // Each process says it itself, with capteur's exact success line (CapteurCommand.report): its give-up
        // message ("the readings are not all acknowledged") must not pass for it.
        String done = "done: " + SENSORS * READINGS + " readings made, all acknowledged by the server";
        assertThat(replayOutput).as("replay's output").contains(done);
        assertThat(simulatedOutput).as("simulated's output").contains(done);
        Results.record("capteur-restarts", String.format("2 capteur processes x %d sensors x %d readings, %d "
                + "server kills (stored in each life before its kill: %s) in %.0f s (seed %d): exit 0, %d rows, "
                + "exactly the readings made", SENSORS, READINGS, kills, storedAtKill,
                (System.nanoTime() - started) / 1e9, seed, database.count()));
    }

    private static double temperature(int i) {
        return (i % 500) / 10.0 - 10.0;
    }

    private static String[] args(List<String> common, String... more) {
        List<String> all = new ArrayList<>(common);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }
}
