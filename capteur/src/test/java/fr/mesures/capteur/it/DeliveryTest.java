package fr.mesures.capteur.it;

import static fr.mesures.capteur.it.Commands.capteur;
import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.capteur.CapteurFleet;
import fr.mesures.capteur.CapteurSettings;
import fr.mesures.capteur.source.LimitedSource;
import fr.mesures.capteur.source.SimulatedTemperatures;
import fr.mesures.serveur.ServeurSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The {@code capteur} command against the real server and a real SQLite file. */
class DeliveryTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void twentySensorsOfFiftyReadingsStoreExactlyAThousandRows() throws Exception {
        try (var server = InProcessServer.start(dir.resolve("mesures.db"))) {
            int code = capteur("--server", server.address(), "--id", "capteur", "--sensors", "20", "--count", "50",
                    "--interval", "10ms", "--give-up-after", "50s");

            assertThat(code).isZero();
            Mesures mesures = server.mesures();
            assertThat(mesures.count()).isEqualTo(1000);
            assertThat(mesures.distinctSensors()).isEqualTo(20);
            for (int i = 1; i <= 20; i++) {
                assertThat(mesures.timestamps("capteur_" + i)).hasSize(50);
            }
        }
    }

    @Test
    @Timeout(120)
    void aThousandSensorsInOneProcessDeliverEveryReading() throws Exception {
        try (var server = InProcessServer.start(dir.resolve("mesures.db"))) {
            long start = System.nanoTime();
            int code = capteur("--server", server.address(), "--id", "s", "--sensors", "1000", "--count", "15",
                    "--interval", "200ms", "--give-up-after", "100s");
            double seconds = (System.nanoTime() - start) / 1e9;

            assertThat(code).isZero();
            assertThat(server.mesures().count()).isEqualTo(15_000);
            assertThat(server.mesures().distinctSensors()).isEqualTo(1000);
            System.out.printf("1000 sensors x 15 readings every 200 ms: all stored in %.1f s%n", seconds);
        }
    }

    @Test
    @Timeout(60)
    void theEnvironmentConfiguresEveryOptionAndBlankVariablesKeepTheDefaults() throws Exception {
        try (var server = InProcessServer.start(dir.resolve("mesures.db"))) {
            var environment = java.util.Map.of(
                    "CAPTEUR_SERVER", server.address(),
                    "CAPTEUR_ID", "env",
                    "CAPTEUR_SENSORS", "2",
                    "CAPTEUR_COUNT", "7",
                    "CAPTEUR_INTERVAL", "10ms",
                    "CAPTEUR_SEED", "",
                    "CAPTEUR_GIVE_UP_AFTER", " ",
                    "CAPTEUR_MAX_UNACKED", "");
            int code = capteur(java.io.InputStream.nullInputStream(), environment);

            assertThat(code).isZero();
            assertThat(server.mesures().timestamps("env_1")).hasSize(7);
            assertThat(server.mesures().timestamps("env_2")).hasSize(7);
        }
    }

    @Test
    @Timeout(60)
    void asFastAsPossibleNeverStampsAReadingAheadOfItsClock() throws Exception {
        // A clock that moves one millisecond every second time it is read: the sensor could make readings twice as
        // fast as it moves, so one that stamped "previous + 1 ms" instead of waiting for the clock would run ahead.
        long t = 1_764_000_000_000L;
        AtomicLong reads = new AtomicLong();
        AtomicLong lastRead = new AtomicLong();
        LongSupplier clock = () -> {
            long now = t + reads.getAndIncrement() / 2;
            lastRead.set(now);
            return now;
        };
        int n = 500;
        try (var server = InProcessServer.start(dir.resolve("mesures.db"));
             var fleet = CapteurFleet.startWithClocks(List.of("vite"),
                     i -> new LimitedSource(new SimulatedTemperatures(1), n),
                     CapteurSettings.builder("127.0.0.1", server.port()).interval(Duration.ZERO).build(),
                     i -> clock)) {

            assertThat(fleet.awaitFinished(Duration.ofSeconds(50))).isTrue();
            assertThat(fleet.outcome().exitCode()).as(fleet.outcome().toString()).isZero();
            List<Long> timestamps = server.mesures().timestamps("vite");
            // One reading per millisecond of the clock, none lost, none sharing a key...
            assertThat(timestamps).isEqualTo(LongStream.range(t, t + n).boxed().toList());
            // ...and the last no later than the clock when it was made (the sensor reads it no more after that).
            assertThat(timestamps.get(n - 1)).isLessThanOrEqualTo(lastRead.get());
        }
    }

    @Test
    @Timeout(60)
    void aCsvReplayIsStoredWithItsTimesAndTemperatures() throws Exception {
        Path csv = dir.resolve("releves.csv");
        Files.writeString(csv, """
                timestamp;temperature
                2025-11-24T08:00:00Z;12,5
                2025-11-24T09:00:00Z;14
                2025-11-24T10:00:00Z;16,25
                """);
        try (var server = InProcessServer.start(dir.resolve("mesures.db"))) {
            int code = capteur("--server", server.address(), "--id", "releve", "--source", "replay:" + csv,
                    "--interval", "0", "--give-up-after", "50s");

            assertThat(code).isZero();
            assertThat(server.mesures().temperatures("releve")).containsExactly(12.5, 14.0, 16.25);
            assertThat(server.mesures().timestamps("releve"))
                    .containsExactly(1_763_971_200_000L, 1_763_974_800_000L, 1_763_978_400_000L);
        }
    }

    @Test
    @Timeout(60)
    void anNdjsonReplayFeedsEverySensorTheSameReadingsUnderItsOwnName() throws Exception {
        Path ndjson = dir.resolve("export.ndjson");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            lines.append("{\"capteur_id\":\"elsewhere\",\"temperature\":").append(10 + i / 100.0)
                    .append(",\"timestamp\":").append(1_764_000_000_000L + i * 1000L).append("}\n");
        }
        Files.writeString(ndjson, lines);
        try (var server = InProcessServer.start(dir.resolve("mesures.db"))) {
            int code = capteur("--server", server.address(), "--id", "copie", "--sensors", "3",
                    "--source", "replay:" + ndjson, "--interval", "0", "--give-up-after", "50s");

            assertThat(code).isZero();
            assertThat(server.mesures().count()).isEqualTo(1500);
            List<Long> expected = IntStream.range(0, 500).mapToObj(i -> 1_764_000_000_000L + i * 1000L).toList();
            for (int k = 1; k <= 3; k++) {
                assertThat(server.mesures().timestamps("copie_" + k)).isEqualTo(expected);
            }
        }
    }

    @Test
    @Timeout(60)
    void aTemperatureNoServerAcceptsIsSkippedBeforeSendingSoTheRunStillSucceeds() throws Exception {
        Path csv = dir.resolve("froid.csv");
        Files.writeString(csv, "20\n-300\n21\n");
        try (var server = InProcessServer.start(dir.resolve("mesures.db"))) {
            int code = capteur("--server", server.address(), "--id", "froid", "--source", "replay:" + csv,
                    "--interval", "0", "--give-up-after", "30s");

            assertThat(code).isZero(); // sent and rejected by the server, it would have made this 1
            assertThat(server.mesures().temperatures("froid")).containsExactly(20.0, 21.0);
        }
    }

    @Test
    @Timeout(60)
    void aReadingTheServerRejectsIsNotResentAndTheRunSaysSo() throws Exception {
        Path csv = dir.resolve("chaud.csv");
        Files.writeString(csv, "20\n21\n150\n22\n");
        try (var server = InProcessServer.start(dir.resolve("mesures.db"), 0,
                ServeurSettings.builder().maxTemperature(100))) {
            int code = capteur("--server", server.address(), "--id", "four", "--source", "replay:" + csv,
                    "--interval", "0", "--give-up-after", "30s");

            assertThat(code).isEqualTo(1); // not everything was delivered
            assertThat(server.mesures().temperatures("four")).containsExactly(20.0, 21.0, 22.0);
        }
    }
}
