package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.protocole.Reply;
import fr.mesures.serveur.storage.MesureStore;
import fr.mesures.serveur.storage.ReadingBlock;
import fr.mesures.serveur.storage.SqliteStore;
import fr.mesures.serveur.storage.StoreException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code /metrics} and {@code /health} over real HTTP. */
@Timeout(60)
class HttpEndpointTest {

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void metricsAndHealthOfAWorkingServer() throws Exception {
        try (var server = RunningServeur.start(dir.resolve("mesures.db"), "sqlite:", b -> b.httpPort(0))) {
            try (var client = server.connect()) {
                client.requestAcks().send("{\"capteur_id\":\"salon\",\"temperature\":19.5}\n{\"capteur_id\":\"x\"}\n");
                client.finish();
            }
            int port = server.serveur.httpPort();
            HttpResponse<String> metrics = get(port, "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(
                    type -> assertThat(type).startsWith("text/plain").contains("charset=utf-8"));
            String body = metrics.body();
            assertThat(Probe.metric(body, "serveur_readings_received_total")).isEqualTo(1);
            assertThat(Probe.metric(body, "serveur_readings_stored_total")).isEqualTo(1);
            assertThat(Probe.metric(body, "serveur_readings_duplicate_total")).isZero();
            assertThat(Probe.metric(body, "serveur_readings_rejected_total", "reason", "missing_field")).isEqualTo(1);
            assertThat(Probe.metric(body, "serveur_connections_total")).isEqualTo(1);
            assertThat(Probe.metric(body, "serveur_queue_readings")).isZero();
            assertThat(Probe.metric(body, "capteur_temperature_celsius", "capteur_id", "salon")).isEqualTo(19.5);
            assertThat(Probe.metric(body, "capteur_last_seen_timestamp_seconds", "capteur_id", "salon"))
                    .isCloseTo(System.currentTimeMillis() / 1000.0, org.assertj.core.data.Offset.offset(60.0));
            assertThat(body).contains("serveur_connections_active ", "serveur_store_commit_seconds_count ",
                    "serveur_store_commit_seconds_sum ", "jvm_memory_used_bytes", "process_cpu_usage",
                    "jvm_threads_live_threads");

            HttpResponse<String> health = get(port, "/health");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"up\"", "\"writable\":true", "\"listening\":true");
            assertThat(get(port, "/nothing-here").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void healthSaysWhenTheStoreFailsAndNothingIsAcknowledgedUntilItRecovers() throws Exception {
        var broken = new AtomicBoolean(true);
        SqliteStore real = SqliteStore.open(dir.resolve("mesures.db"), SqliteStore.Options.DEFAULT);
        // A collaborator double around the real store: fails while `broken` is set.
        MesureStore failing = new MesureStore() {
            @Override
            public int write(List<ReadingBlock> blocks) throws StoreException {
                if (broken.get()) {
                    throw new StoreException("disk full (simulated)");
                }
                return real.write(blocks);
            }

            @Override
            public String describe() {
                return real.describe();
            }

            @Override
            public void close() {
                real.close();
            }
        };
        var settings = ServeurSettings.builder().bind("127.0.0.1").port(0).httpPort(0)
                .store("sqlite:" + dir.resolve("mesures.db")).build();
        var serveur = new ServeurTCP(settings, Clock.systemUTC(), failing);
        serveur.start();
        try (var client = TestClient.connect(serveur.port())) {
            client.requestAcks().send("{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":5}\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> get(serveur.httpPort(), "/health").statusCode() == 503);
            String body = get(serveur.httpPort(), "/health").body();
            assertThat(body).contains("\"status\":\"down\"", "\"writable\":false", "disk full (simulated)");
            client.socket().setSoTimeout(500);
            // Only the acks request itself may be acknowledged while the reading is not stored.
            Reply reply;
            try {
                while ((reply = client.next()) != null) {
                    assertThat(reply).isEqualTo(new Reply.Ack(1));
                }
            } catch (java.net.SocketTimeoutException expected) {
                // nothing more: good
            }
            client.socket().setSoTimeout(20_000);
            broken.set(false);
            assertThat(client.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
            assertThat(get(serveur.httpPort(), "/health").statusCode()).isEqualTo(200);
            assertThat(Probe.metric(serveur.metrics().scrape(), "serveur_store_failures_total")).isPositive();
        } finally {
            serveur.close();
        }
    }
}
