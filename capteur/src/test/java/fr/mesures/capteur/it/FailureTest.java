package fr.mesures.capteur.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.capteur.CapteurFleet;
import fr.mesures.capteur.CapteurSettings;
import fr.mesures.capteur.network.Backoff;
import fr.mesures.capteur.source.LimitedSource;
import fr.mesures.capteur.source.SimulatedTemperatures;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing is lost when the server dies or is not there yet. Each sensor's clock moves one millisecond per
 * reading from T, so its timestamps are exactly T, T+1, ... and the test knows every key the database must hold.
 */
class FailureTest {

    private static final long T = 1_764_000_000_000L;

    @TempDir
    Path dir;

    private static CapteurSettings settings(int port, Duration interval) {
        return CapteurSettings.builder("127.0.0.1", port)
                .interval(interval)
                .connectTimeout(Duration.ofSeconds(2))
                .ackTimeout(Duration.ofSeconds(5))
                .backoff(new Backoff.Policy(Duration.ofMillis(50), Duration.ofMillis(500)))
                .build();
    }

    private static Set<Mesures.Key> expectedKeys(List<String> ids, int n) {
        Set<Mesures.Key> keys = new HashSet<>();
        for (String id : ids) {
            for (int i = 0; i < n; i++) {
                keys.add(new Mesures.Key(id, T + i));
            }
        }
        return keys;
    }

    @Test
    @Timeout(120)
    void aServerKilledMidRunAndRestartedEndsWithEveryReadingOnceAndNoneMissing() throws Exception {
        int k = 10;
        int n = 300;
        int port = ServerProcess.freePort();
        Path database = dir.resolve("mesures.db");
        Path log = dir.resolve("serveur.log");
        List<String> ids = CapteurFleet.ids("tue", k);
        try (var first = ServerProcess.start(port, database, log);
             var fleet = CapteurFleet.startWithClocks(ids, i -> new LimitedSource(new SimulatedTemperatures(i), n),
                     settings(port, Duration.ofMillis(10)), i -> new AtomicLong(T)::getAndIncrement)) {

            await().atMost(Duration.ofSeconds(30)).until(() -> fleet.acknowledged() >= 500);
            first.kill();
            await().atMost(Duration.ofSeconds(30)).until(() -> fleet.connectionFailures() >= k);
            long acknowledgedBeforeRestart = fleet.acknowledged();

            try (var second = ServerProcess.start(port, database, log)) {
                assertThat(fleet.awaitFinished(Duration.ofSeconds(60))).isTrue();
                CapteurFleet.Outcome outcome = fleet.outcome();
                assertThat(outcome.exitCode()).as(outcome.toString()).isZero();
                assertThat(outcome.acknowledged()).isEqualTo((long) k * n);
                assertThat(acknowledgedBeforeRestart).isLessThan((long) k * n); // the kill really was mid-run
            }
        }
        Mesures mesures = new Mesures(database);
        assertThat(mesures.count()).isEqualTo((long) k * n);
        assertThat(mesures.keys()).isEqualTo(expectedKeys(ids, n));
    }

    @Test
    @Timeout(60)
    void sensorsStartedBeforeTheServerWaitRetryAndDeliverEverythingOnceItStarts() throws Exception {
        int k = 5;
        int n = 20;
        int port = ServerProcess.freePort();
        List<String> ids = CapteurFleet.ids("tot", k);
        try (var fleet = CapteurFleet.startWithClocks(ids, i -> new LimitedSource(new SimulatedTemperatures(i), n),
                settings(port, Duration.ofMillis(20)), i -> new AtomicLong(T)::getAndIncrement)) {

            // 8 failures of one sensor take at least 1.1 s of backoff (25 + 50 + ... ms): by then every source has
            // ended (20 readings at 20 ms), and no sensor may take that for the end of its work.
            await().atMost(Duration.ofSeconds(20)).until(() -> fleet.connectionFailures() >= 8L * k);
            assertThat(fleet.outcome().finished()).isZero();

            try (var server = InProcessServer.start(dir.resolve("mesures.db"), port,
                    fr.mesures.serveur.ServeurSettings.builder())) {
                assertThat(fleet.awaitFinished(Duration.ofSeconds(30))).isTrue();
                assertThat(fleet.outcome().exitCode()).as(fleet.outcome().toString()).isZero();
                assertThat(server.mesures().keys()).isEqualTo(expectedKeys(ids, n));
            }
        }
    }
}
