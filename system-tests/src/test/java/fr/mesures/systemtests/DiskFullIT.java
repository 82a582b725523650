package fr.mesures.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.systemtests.support.AckedStreams;
import fr.mesures.systemtests.support.Database;
import fr.mesures.systemtests.support.Results;
import fr.mesures.systemtests.support.ServeurProcess;
import fr.mesures.systemtests.support.Tmpfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The disk fills up under the server (a tmpfs of its own, filled by a filler file): it stops acknowledging,
 * keeps what it has not committed and pushes back on the clients, says so in {@code /health} and the metrics, and
 * resumes by itself when space comes back (the filler is deleted). Both stores.
 */
class DiskFullIT {

    private static final int CONNECTIONS = 10;
    /**
     * About 14 MB of JSON, 200,000 readings: more than the server's in-flight budget with -Xmx128m holds (16 MiB at
     * about 200 bytes a decoded reading), so it must push back.
     */
    private static final int READINGS_PER_CONNECTION = 20_000;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @ParameterizedTest(name = "{0} store")
    @ValueSource(strings = {"sqlite", "file"})
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aFullDiskStopsAcknowledgementsAndTheServerResumesWhenSpaceReturns(String kind) throws Exception {
        try (Tmpfs disk = Tmpfs.mount(dir.resolve("disque"), "64m")) {
            Path data = disk.dir().resolve(kind.equals("sqlite") ? "mesures.db" : "donnees.txt");
            ServeurProcess server = ServeurProcess.with(dir.resolve("serveur.log"), kind + ":" + data)
                    .jvm("-Xmx128m", "-XX:+ExitOnOutOfMemoryError").start();
            try {
                run(kind, disk, data, server);
            } finally {
                server.close();
            }
        }
    }

    private void run(String kind, Tmpfs disk, Path data, ServeurProcess server) throws Exception {
        long filler = disk.fill("remplissage");
        try (AckedStreams clients = AckedStreams.Plan.of("plein_" + kind, CONNECTIONS).window(READINGS_PER_CONNECTION)
                .limit(READINGS_PER_CONNECTION).open(server.port())) {
            // The store fails: /health turns 503 and says why, the failures are counted.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> server.health().status() == 503);
            ServeurProcess.Health health = server.health();
            assertThat(health.writable()).as("writable in %s", health).isFalse();
            assertThat(health.problem()).as("the reason in %s", health).isNotBlank();
            assertThat(server.metrics().sum("serveur_store_failures_total")).isPositive();

            // Nothing is acknowledged, and once the in-flight budget is spent nothing more is read: the clients are
            // pushed back by TCP, and the server's memory stays put.
            long ackedWhileFull = clients.acked();
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                    .until(() -> clients.acked() == ackedWhileFull);
            double[] bytes = {server.metrics().sum("serveur_received_bytes_total")};
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                double now = server.metrics().sum("serveur_received_bytes_total");
                boolean still = now == bytes[0];
                bytes[0] = now;
                return still;
            });
            long expected = (long) CONNECTIONS * READINGS_PER_CONNECTION;
            long sent = clients.bytesWritten();
            // Everything the server has not read waits in the kernel's socket buffers (several MB each on
            // loopback) or in the clients: that is TCP pushing back.
            assertThat((long) bytes[0]).as("bytes read by the server while its store is full, of %d sent", sent)
                    .isLessThan(sent);
            long queued = server.metrics().count("serveur_queue_readings");
            assertThat(queued).as("readings held, waiting for the disk").isPositive();
            assertThat(server.alive()).isTrue();
            long heap = server.heapAfterGc();

            // Space returns: the server resumes by itself and every reading is acknowledged.
            Instant freed = Instant.now();
            Files.delete(disk.dir().resolve("remplissage"));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> server.health().status() == 200);
            Duration toHealthy = Duration.between(freed, Instant.now());
            await().atMost(Duration.ofSeconds(120)).until(() -> clients.acked() == expected);
            clients.stop();
            await().atMost(Duration.ofSeconds(60)).until(clients::allEnded);
            for (AckedStreams.State s : clients.states()) {
                assertThat(s.errors()).isEmpty();
                assertThat(s.acked()).isEqualTo(READINGS_PER_CONNECTION);
            }
            Set<String> keys = kind.equals("sqlite") ? sqliteKeys(data) : fileKeys(data);
            assertThat(keys).as("every reading once").hasSize((int) expected);
            assertThat(server.errorLines()).isEmpty();
            Results.record("disk-full-" + kind, String.format("tmpfs filled (%d MB filler) under %d connections "
                    + "sending %d readings: 503 '%s', acks stopped at %d, reading paused after %d of %d bytes sent (%d "
                    + "readings queued, heap after GC %d MB of 128), filler deleted -> 200 after %.1f s, all %d acked and stored once",
                    filler >> 20, CONNECTIONS, expected, health.problem(), ackedWhileFull, (long) bytes[0], sent, queued,
                    heap >> 20, toHealthy.toMillis() / 1000.0, expected));
        }
    }

    private static Set<String> sqliteKeys(Path db) {
        Set<String> keys = new HashSet<>();
        for (Database.Row row : new Database(db).all()) {
            assertThat(keys.add(row.capteurId() + "@" + row.timestamp())).isTrue();
        }
        return keys;
    }

    /** Every line of donnees.txt is whole, and no reading appears twice. */
    private static Set<String> fileKeys(Path file) throws IOException {
        Pattern line = Pattern.compile("\\{\"capteur_id\":\"([^\"]+)\",\"temperature\":[-0-9.E]+,\"timestamp\":\"([^\"]+)\","
                + "\"received_at\":\"[^\"]+\"}");
        Set<String> keys = new HashSet<>();
        List<String> lines = Files.readAllLines(file);
        for (String text : lines) {
            Matcher m = line.matcher(text);
            assertThat(m.matches()).as("a whole line: %s", text).isTrue();
            assertThat(keys.add(m.group(1) + "@" + m.group(2))).as("twice: %s", text).isTrue();
        }
        return keys;
    }
}
