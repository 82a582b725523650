package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.serveur.ingest.InjectedFault;
import fr.mesures.serveur.reload.Reloader;
import fr.mesures.serveur.storage.SqliteStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A thread of the pipeline that dies of an Error (here an injected OutOfMemoryError) makes the server say so at
 * once: {@code /health} 503 naming the thread, and {@link ServeurTCP#awaitFailure} returns, which is what makes
 * the program exit (see {@code ThreadDeathIT} for the process). Everything acknowledged before is stored. The
 * reload thread, which keeps the TLS certificate current, counts as one of them.
 */
@Timeout(60)
class ThreadDeathTest {

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @ParameterizedTest(name = "{0}")
    @CsvSource({"selector, serveur-selector", "worker, serveur-worker-1", "writer, serveur-writer"})
    void aDeadPipelineThreadTurnsHealthTo503AndStopsTheServer(String stage, String thread) throws Exception {
        Path db = dir.resolve("mesures.db");
        var settings = ServeurSettings.builder().bind("127.0.0.1").port(0).httpPort(0).workers(1)
                .store("sqlite:" + db).build();
        var serveur = new ServeurTCP(settings, Clock.systemUTC(), SqliteStore.open(db, SqliteStore.Options.DEFAULT),
                InjectedFault.parse(stage + ":boom"));
        serveur.start();
        try (var client = TestClient.connect(serveur.port())) {
            client.requestAcks();
            var readings = new StringBuilder();
            for (int i = 0; i < 500; i++) {
                readings.append("{\"capteur_id\":\"avant\",\"temperature\":20,\"timestamp\":").append(1_000 + i)
                        .append("}\n");
            }
            client.send(readings.toString()).untilAck(501);
            assertThat(get(serveur.httpPort()).statusCode()).isEqualTo(200);

            client.send("{\"capteur_id\":\"boom\",\"temperature\":20}\n");
            assertThat(serveur.awaitFailure(10, TimeUnit.SECONDS)).as("the failure is reported").isTrue();

            HttpResponse<String> health = get(serveur.httpPort());
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body()).contains("\"status\":\"down\"", thread + " died",
                    "java.lang.OutOfMemoryError: injected in the " + stage);
        } finally {
            long start = System.nanoTime();
            serveur.close();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("a short stop").isLessThan(
                    Duration.ofSeconds(15));
        }
        assertThat(Probe.rows(db, "capteur_id = 'avant'")).as("every acknowledged reading is stored").isEqualTo(500);
    }

    @Test
    void aDeadReloadThreadTurnsHealthTo503() throws Exception {
        Path watched = Files.writeString(dir.resolve("fichier.txt"), "1");
        Reloader reloader = new Reloader(Duration.ofMillis(50));
        AtomicInteger loads = new AtomicInteger();
        reloader.watch("fichier", List.of(watched), () -> {
            if (loads.incrementAndGet() > 1) {
                throw new OutOfMemoryError("injected in a reload");
            }
            return Files.readString(watched);
        });
        var settings = ServeurSettings.builder().bind("127.0.0.1").port(0).httpPort(0).workers(1)
                .store("sqlite:" + dir.resolve("mesures.db")).reloader(reloader).build();
        var serveur = new ServeurTCP(settings);
        serveur.start();
        try {
            assertThat(get(serveur.httpPort()).statusCode()).isEqualTo(200);
            Files.writeString(watched, "22");
            assertThat(serveur.awaitFailure(10, TimeUnit.SECONDS)).as("the failure is reported").isTrue();
            HttpResponse<String> health = get(serveur.httpPort());
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body()).contains("serveur-reload died", "java.lang.OutOfMemoryError: injected in a reload");
        } finally {
            serveur.close();
        }
    }

    private HttpResponse<String> get(int port) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
