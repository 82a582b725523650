package fr.mesures.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.systemtests.support.AckedStreams;
import fr.mesures.systemtests.support.Database;
import fr.mesures.systemtests.support.Results;
import fr.mesures.systemtests.support.ServeurProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM while 100 connections stream at full speed: the server stops reading, commits everything it has read,
 * sends each connection an acknowledgement covering it, and exits within a bound. So on every connection, the
 * readings in the database are exactly the ones acknowledged: none committed behind the client's back, none
 * acknowledged and missing.
 */
class SigtermIT {

    private static final int CONNECTIONS = 100;
    /** The bound we promise in docs/reliability.md for a healthy store; the server's own drain limit is 30 s. */
    private static final Duration BOUND = Duration.ofSeconds(15);

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void sigtermCommitsAndAcknowledgesEverythingReceivedThenExits() throws Exception {
        Path db = dir.resolve("mesures.db");
        long exitNanos;
        List<AckedStreams.State> states;
        ServeurProcess server = ServeurProcess.with(dir.resolve("serveur.log"), "sqlite:" + db).start();
        try (AckedStreams clients = AckedStreams.Plan.of("terme", CONNECTIONS).window(2000).open(server.port())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> clients.acked() >= 50_000);
            long signalled = System.nanoTime();
            server.terminate();
            assertThat(server.waitFor(Duration.ofSeconds(60))).as("exited; log:%n%s", server.logTail(30)).isTrue();
            exitNanos = System.nanoTime() - signalled;
            await().atMost(Duration.ofSeconds(30)).until(clients::allEnded);
            states = clients.states();
        } finally {
            server.close();
        }
        assertThat(server.process().exitValue()).as("exit status after the shutdown hook (128 + SIGTERM)")
                .isEqualTo(143);
        assertThat(server.logText()).contains("serveur stopped").doesNotContain("still in flight")
                .doesNotContain("giving up");
        assertThat(server.errorLines()).isEmpty();

        Database database = new Database(db);
        long acked = 0;
        long made = 0;
        for (AckedStreams.State s : states) {
            assertThat(s.errors()).isEmpty();
            List<Database.Row> rows = database.rows(s.capteurId());
            assertThat((long) rows.size()).as("%s: stored == acknowledged (%s)", s.capteurId(), s)
                    .isEqualTo(s.acked());
            for (int i = 0; i < rows.size(); i++) {
                assertThat(rows.get(i).timestamp()).isEqualTo(s.firstTimestamp() + i);
            }
            acked += s.acked();
            made += s.produced();
        }
        assertThat(Duration.ofNanos(exitNanos)).isLessThan(BOUND);
        Results.record("sigterm", String.format("SIGTERM under %d connections at full speed: exit 143 after %.2f s "
                + "(bound %d s); %d readings stored, each acknowledged to its connection (%d made, the rest never "
                + "read by the server)", CONNECTIONS, exitNanos / 1e9, BOUND.toSeconds(), acked, made));
    }
}
