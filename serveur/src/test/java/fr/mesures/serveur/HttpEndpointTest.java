package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.protocole.Reply;
import fr.mesures.serveur.metrics.Health;
import fr.mesures.serveur.metrics.HttpEndpoint;
import fr.mesures.serveur.metrics.ServeurMetrics;
import fr.mesures.serveur.storage.MesureStore;
import fr.mesures.serveur.storage.ReadingBlock;
import fr.mesures.serveur.storage.SqliteStore;
import fr.mesures.serveur.storage.StoreException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code /metrics} and {@code /health} over real HTTP. */
@Timeout(60)
class HttpEndpointTest {

    /** HttpEndpoint's limits, as docs/architecture.md states them. */
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final int MAX_HEADER_BYTES = 8 * 1024;
    private static final int MAX_CONNECTIONS = 64;

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final ServeurMetrics metrics = new ServeurMetrics(10);
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeEverything() throws Exception {
        for (AutoCloseable resource : toClose) {
            resource.close();
        }
        metrics.close();
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The endpoint alone, always healthy, closed after the test. */
    private HttpEndpoint endpoint() {
        HttpEndpoint endpoint = HttpEndpoint.start("127.0.0.1", 0, metrics,
                () -> new Health(true, "test", true, null, 0, 0, 0, null));
        toClose.add(endpoint);
        return endpoint;
    }

    private Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        toClose.add(socket);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        return socket;
    }

    /** A client that starts a request and then sends nothing more: the blank line ending the headers never comes. */
    private Socket stalledClient(int port) throws IOException {
        Socket socket = connect(port);
        socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
        return socket;
    }

    /** {@code GET /health}, which must be answered 200 within a second; how long it took. */
    private Duration timedHealth(int port) throws Exception {
        return timedHealth(port, Duration.ofSeconds(1));
    }

    /** {@code GET /health}, which must be answered 200 within {@code within}; how long it took. */
    private Duration timedHealth(int port, Duration within) throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/health")).timeout(within).build(), HttpResponse.BodyHandlers.ofString());
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(response.statusCode()).isEqualTo(200);
        return took;
    }

    /** Reads what the server sends until it closes the connection; how long that took from {@code start}. */
    private static Duration untilClosed(Socket socket, long start, Duration atMost) throws IOException {
        socket.setSoTimeout((int) atMost.toMillis());
        InputStream in = socket.getInputStream();
        try {
            while (in.read() >= 0) {
                // whatever the server says before closing (a 408, say) does not matter
            }
        } catch (SocketException reset) {
            // a reset is a close too
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** Raw bytes of one request, and what the server answered until it closed the connection. */
    private static String exchange(Socket socket, String request) throws IOException {
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        var answer = new ByteArrayOutputStream();
        try {
            socket.getInputStream().transferTo(answer);
        } catch (SocketException reset) {
            // the server may close without reading the rest of the request: what it sent before still counts
        }
        return answer.toString(StandardCharsets.US_ASCII);
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

    @Test
    void healthAnswersWhileAClientStallsInTheMiddleOfItsRequest() throws Exception {
        int port = endpoint().port();
        timedHealth(port); // warm: the first request loads classes on both sides
        stalledClient(port);
        // The stalled request's bytes were sent before this connection was opened, so the server has them first.
        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void healthAnswersWhileManyClientsStall() throws Exception {
        int port = endpoint().port();
        timedHealth(port);
        for (int i = 0; i < 20; i++) {
            stalledClient(port);
        }
        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void healthAnswersWithinASecondWhenAThousandClientsTrickleTheirRequests() throws Exception {
        int port = endpoint().port();
        timedHealth(port);
        List<Socket> flood = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            flood.add(stalledClient(port));
        }
        // One byte a client, as a slowloris sends to stay clear of the idle timeout: the oldest make way.
        for (Socket s : flood) {
            try {
                s.getOutputStream().write('a');
            } catch (IOException closedByTheServer) {
                // evicted already
            }
        }
        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
        long stillOpen = flood.stream().filter(s -> {
            try {
                s.setSoTimeout(1);
                return s.getInputStream().read() >= 0;
            } catch (SocketTimeoutException open) {
                return true;
            } catch (IOException closed) {
                return false;
            }
        }).count();
        assertThat(stillOpen).as("flood connections the server kept").isLessThanOrEqualTo(MAX_CONNECTIONS);
    }

    @Test
    void healthAnswersWithinASecondWhileThirtyClientsReadTenThousandSensorsMetricsSlowly() throws Exception {
        var many = new ServeurMetrics(10_000);
        toClose.add(many);
        for (int i = 0; i < 10_000; i++) {
            many.lastReading("capteur_" + i, 20, 1_764_000_000_000L);
        }
        HttpEndpoint endpoint = HttpEndpoint.start("127.0.0.1", 0, many,
                () -> new Health(true, "test", true, null, 0, 0, 0, null));
        toClose.add(endpoint);
        int port = endpoint.port();
        timedHealth(port);
        AtomicBoolean reading = new AtomicBoolean(true);
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            Socket socket = connect(port);
            Thread reader = new Thread(() -> slowlyReadMetrics(socket, reading), "slow-metrics-reader-" + i);
            reader.start();
            readers.add(reader);
        }
        try {
            for (int i = 0; i < 5; i++) {
                assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
            }
        } finally {
            reading.set(false);
        }
        for (Thread t : readers) {
            t.join(5_000);
        }
    }

    /** Asks for /metrics again and again, reading 512 bytes every 10 ms, as a client on a slow link. */
    private static void slowlyReadMetrics(Socket first, AtomicBoolean reading) {
        Socket socket = first;
        try {
            while (reading.get()) {
                socket.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                InputStream in = socket.getInputStream();
                byte[] chunk = new byte[512];
                while (reading.get() && in.read(chunk) >= 0) {
                    Thread.sleep(10);
                }
                socket.close();
                socket = new Socket("127.0.0.1", first.getPort());
            }
        } catch (IOException | InterruptedException e) {
            // closed by the server or by the test
        } finally {
            try {
                socket.close();
            } catch (IOException e) {
                // closing
            }
        }
    }

    @Test
    void aStalledClientIsDisconnectedAfterTheIdleTimeout() throws Exception {
        int port = endpoint().port();
        long start = System.nanoTime();
        Socket stalled = stalledClient(port);
        Duration closedAfter = untilClosed(stalled, start, IDLE_TIMEOUT.plusSeconds(5));
        assertThat(closedAfter).isBetween(IDLE_TIMEOUT.minusSeconds(1), IDLE_TIMEOUT.plusSeconds(2));
    }

    @Test
    void aClientTricklingItsHeadersIsDisconnectedAtTheDeadline() throws Exception {
        int port = endpoint().port();
        long start = System.nanoTime();
        Socket slow = stalledClient(port);
        slow.setSoTimeout(500);
        // One byte every half second: never idle for long, and far below the header size limit by the deadline.
        boolean closed = false;
        while (!closed && System.nanoTime() - start < DEADLINE.plusSeconds(5).toNanos()) {
            try {
                slow.getOutputStream().write('a');
                closed = slow.getInputStream().read() < 0;
            } catch (SocketTimeoutException stillOpen) {
                // the pace of the trickle
            } catch (SocketException reset) {
                closed = true;
            }
        }
        Duration closedAfter = Duration.ofNanos(System.nanoTime() - start);
        assertThat(closed).as("closed by the server").isTrue();
        assertThat(closedAfter).isBetween(DEADLINE.minusSeconds(1), DEADLINE.plusSeconds(2));
    }

    @Test
    void requestHeadersOverTheLimitAreRefusedAndTheServerGoesOn() throws Exception {
        int port = endpoint().port();
        String answer = exchange(connect(port), "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: "
                + "a".repeat(MAX_HEADER_BYTES) + "\r\n\r\n");
        assertThat(answer).satisfiesAnyOf(
                text -> assertThat(text).startsWith("HTTP/1.1 431 "),
                text -> assertThat(text).as("nothing but a close").isEmpty());
        String fits = exchange(connect(port), "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: "
                + "a".repeat(MAX_HEADER_BYTES / 2) + "\r\n\r\n");
        assertThat(fits).startsWith("HTTP/1.1 200 ");
        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void onlyGetAndHeadAreAllowed() throws Exception {
        int port = endpoint().port();
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/health")).POST(HttpRequest.BodyPublishers.ofString("x")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");

        for (String path : List.of("/health", "/metrics")) {
            HttpResponse<String> head = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + path)).method("HEAD", HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(head.statusCode()).as(path).isEqualTo(200);
            assertThat(head.headers().firstValue("Content-Type")).as(path).isPresent();
            assertThat(head.body()).as(path).isEmpty();
        }
        String rawHead = exchange(connect(port), "HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(rawHead).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\n");
        assertThat(get(port, "/health").body()).contains("\"status\":\"up\"");
    }

    @Test
    void closeIsPromptEvenWithAStalledClientAndLeavesNoThreadBehind() throws Exception {
        HttpEndpoint endpoint = HttpEndpoint.start("127.0.0.1", 0, metrics,
                () -> new Health(true, "test", true, null, 0, 0, 0, null));
        timedHealth(endpoint.port());
        stalledClient(endpoint.port());
        long start = System.nanoTime();
        endpoint.close();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(500));
        await().atMost(Duration.ofSeconds(1)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(thread -> thread.getName().startsWith("serveur-http")));
    }
}
