package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.Validity;
import fr.mesures.serveur.metrics.BearerToken;
import fr.mesures.serveur.metrics.Health;
import fr.mesures.serveur.metrics.HttpEndpoint;
import fr.mesures.serveur.metrics.HttpSecurity;
import fr.mesures.serveur.metrics.ServeurMetrics;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} and {@code /health} over real HTTPS on loopback (a private CA made here, the JDK's HttpClient
 * trusting it), and the bearer token {@code /metrics} may require; the hardening of plain HTTP
 * ({@link HttpEndpointTest}) holding for TLS handshakes too.
 */
@Timeout(60)
class HttpsEndpointTest {

    /** HttpEndpoint's limits, as the README states them. */
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_CONNECTIONS = 64;
    private static final String TOKEN = "s3cr3t-Token_for.prometheus~42";

    @TempDir
    Path dir;

    private PrivatePki pki;
    private HttpClient https;
    private final HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ServeurMetrics metrics = new ServeurMetrics(10);
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void certificates() throws Exception {
        pki = PrivatePki.create(dir, List.of("localhost", "127.0.0.1"), Validity.fromNow(Duration.ofDays(1)),
                KeyFormat.PKCS8);
        ClientTls client = pki.client();
        https = HttpClient.newBuilder().sslContext(client.context()).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void closeEverything() throws Exception {
        for (AutoCloseable resource : toClose) {
            resource.close();
        }
        metrics.close();
    }

    private HttpEndpoint endpoint(boolean tls, String token) throws Exception {
        BearerToken bearer = null;
        if (token != null) {
            bearer = BearerToken.read(Files.writeString(dir.resolve("token"), token + "\n"));
        }
        HttpEndpoint endpoint = HttpEndpoint.start("127.0.0.1", 0,
                HttpSecurity.fixed(tls ? pki.server() : null, bearer), metrics,
                () -> new Health(true, "test", true, null, 0, 0, 0, null));
        toClose.add(endpoint);
        return endpoint;
    }

    private HttpResponse<String> get(HttpClient client, String url, Map<String, String> headers) throws Exception {
        return send(client, url, "GET", headers);
    }

    private HttpResponse<String> send(HttpClient client, String url, String method, Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody());
        headers.forEach(request::header);
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code GET https://127.0.0.1:PORT/health}, which must be answered 200 within a second; how long it took. */
    private Duration timedHealth(int port) throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> response = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port
                + "/health")).timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(response.statusCode()).isEqualTo(200);
        return took;
    }

    private Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        toClose.add(socket);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        return socket;
    }

    /**
     * A client that starts a TLS handshake and stalls: the header of a record announcing a 512-byte ClientHello,
     * then nothing.
     */
    private Socket stalledHandshake(int port) throws IOException {
        Socket socket = connect(port);
        socket.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00});
        return socket;
    }

    private static boolean open(Socket socket) {
        try {
            socket.setSoTimeout(1);
            return socket.getInputStream().read() >= 0;
        } catch (SocketTimeoutException stillOpen) {
            return true;
        } catch (IOException closed) {
            return false;
        }
    }

    @Test
    void healthAndMetricsAnswerOverHttpsWithTheProjectsTlsPolicy() throws Exception {
        int port = endpoint(true, null).port();

        HttpResponse<String> health = get(https, "https://127.0.0.1:" + port + "/health", Map.of());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"up\"");
        assertThat(health.sslSession()).hasValueSatisfying(
                session -> assertThat(session.getProtocol()).isEqualTo("TLSv1.3"));
        // By name: the client sends it as SNI, which the server must not hold against the request.
        HttpResponse<String> scrape = get(https, "https://localhost:" + port + "/metrics", Map.of());
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.body()).contains("serveur_readings_received_total");
        assertThat(get(https, "https://127.0.0.1:" + port + "/nothing-here", Map.of()).statusCode()).isEqualTo(404);
    }

    @Test
    void suitesOutsideThePolicyAreRefusedThoughJettyWouldAllowThem() throws Exception {
        int port = endpoint(true, null).port();
        // CBC with SHA-256: not in Jetty's exclusions, out of TlsPolicy (no AEAD).
        assertThatThrownBy(() -> handshake(port, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"))
                .isInstanceOf(SSLHandshakeException.class);
        assertThat(handshake(port, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"))
                .isEqualTo("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
    }

    /** A TLS 1.2 handshake offering {@code suite} alone; the suite agreed. */
    private String handshake(int port, String suite) throws Exception {
        try (SSLSocket socket = (SSLSocket) pki.client().context().getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            socket.setEnabledProtocols(new String[] {"TLSv1.2"});
            socket.setEnabledCipherSuites(new String[] {suite});
            socket.startHandshake();
            return socket.getSession().getCipherSuite();
        }
    }

    @Test
    void aClientAskingToRenegotiateIsCutOff() throws Exception {
        int port = endpoint(true, null).port();
        try (SSLSocket socket = (SSLSocket) pki.client().context().getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            socket.setEnabledProtocols(new String[] {"TLSv1.2"}); // TLS 1.3 has no renegotiation
            socket.startHandshake();
            socket.startHandshake(); // again: a renegotiation, which the server must not do for every client who asks
            String answer;
            try {
                socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (IOException closed) {
                answer = "";
            }
            assertThat(answer).doesNotContain("200");
        }
        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void plainHttpToTheHttpsPortFailsCleanlyAndTheServerGoesOn() throws Exception {
        int port = endpoint(true, TOKEN).port();
        assertThatThrownBy(() -> get(plain, "http://127.0.0.1:" + port + "/metrics",
                Map.of("Authorization", "Bearer " + TOKEN))).isInstanceOf(IOException.class);

        Socket raw = connect(port);
        raw.setSoTimeout(5_000);
        long start = System.nanoTime();
        raw.getOutputStream().write(("GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN
                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        var answer = new ByteArrayOutputStream();
        try {
            raw.getInputStream().transferTo(answer);
        } catch (SocketException reset) {
            // a reset is a close too
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("closed at once, not at the idle timeout")
                .isLessThan(Duration.ofSeconds(2));
        assertThat(answer.toString(StandardCharsets.ISO_8859_1)).doesNotContain("HTTP/1.1", "status");

        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
        assertThat(get(https, "https://127.0.0.1:" + port + "/metrics", Map.of("Authorization", "Bearer " + TOKEN))
                .statusCode()).isEqualTo(200);
    }

    @Test
    void aStalledHandshakeCostsAConnectionUntilTheIdleTimeoutAndHealthIsAnsweredMeanwhile() throws Exception {
        int port = endpoint(true, null).port();
        timedHealth(port); // warm: the first handshake loads classes on both sides
        long start = System.nanoTime();
        Socket stalled = stalledHandshake(port);
        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
        assertThat(open(stalled)).isTrue();

        stalled.setSoTimeout((int) IDLE_TIMEOUT.plusSeconds(5).toMillis());
        InputStream in = stalled.getInputStream();
        try {
            while (in.read() >= 0) {
                // an alert, perhaps, before the close
            }
        } catch (SocketException reset) {
            // a reset is a close too
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .isBetween(IDLE_TIMEOUT.minusSeconds(1), IDLE_TIMEOUT.plusSeconds(2));
    }

    @Test
    void stalledHandshakesAreBoundedBySixtyFourConnectionsEachCountedOnce() throws Exception {
        int port = endpoint(true, null).port();
        timedHealth(port);
        List<Socket> flood = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            flood.add(stalledHandshake(port));
        }
        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
        assertThat(timedHealth(port)).isLessThan(Duration.ofSeconds(1));
        // The server closed the oldest as new ones came; its closes reach the sockets a moment later.
        await().atMost(Duration.ofSeconds(3)).until(() -> flood.stream().filter(HttpsEndpointTest::open).count()
                <= MAX_CONNECTIONS);
        // Two health checks took the place of two: 62. A TLS socket counted twice (its TLS and its HTTP
        // connection) would leave about 32.
        assertThat(flood.stream().filter(HttpsEndpointTest::open).count()).isBetween(MAX_CONNECTIONS - 8L,
                (long) MAX_CONNECTIONS);
    }

    @Test
    void metricsRequiresTheTokenOverHttpsAndHealthStaysOpen() throws Exception {
        int port = endpoint(true, TOKEN).port();
        String metricsUrl = "https://127.0.0.1:" + port + "/metrics";

        HttpResponse<String> none = get(https, metricsUrl, Map.of());
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().allValues("WWW-Authenticate")).containsExactly("Bearer realm=\"serveur\"");
        assertThat(none.body()).isEqualTo("unauthorized\n");
        HttpResponse<String> wrong = get(https, metricsUrl, Map.of("Authorization", "Bearer not-" + TOKEN));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).doesNotContain("serveur_");
        assertThat(get(https, metricsUrl, Map.of("Authorization", "Bearer " + TOKEN.substring(1))).statusCode())
                .as("a token but its first character").isEqualTo(401);
        assertThat(get(https, metricsUrl, Map.of("Authorization", "Basic " + TOKEN)).statusCode()).isEqualTo(401);
        assertThat(send(https, metricsUrl, "HEAD", Map.of()).statusCode()).isEqualTo(401);

        HttpResponse<String> right = get(https, metricsUrl, Map.of("Authorization", "Bearer " + TOKEN));
        assertThat(right.statusCode()).isEqualTo(200);
        assertThat(right.body()).contains("serveur_");
        assertThat(Probe.metric(right.body(), "serveur_http_unauthorized_total")).isEqualTo(5);
        assertThat(get(https, metricsUrl, Map.of("Authorization", "bearer  " + TOKEN)).statusCode())
                .as("the scheme in any case").isEqualTo(200);

        HttpResponse<String> health = get(https, "https://127.0.0.1:" + port + "/health", Map.of());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"up\"");
        assertThat(Probe.metric(metrics.scrape(), "serveur_http_unauthorized_total")).isEqualTo(5);
    }

    @Test
    void theTokenWorksOverPlainHttpToo() throws Exception {
        int port = endpoint(false, TOKEN).port();
        String metricsUrl = "http://127.0.0.1:" + port + "/metrics";
        assertThat(get(plain, metricsUrl, Map.of()).statusCode()).isEqualTo(401);
        assertThat(get(plain, metricsUrl, Map.of("Authorization", "Bearer " + TOKEN)).statusCode()).isEqualTo(200);
        assertThat(get(plain, "http://127.0.0.1:" + port + "/health", Map.of()).statusCode()).isEqualTo(200);
        assertThat(Probe.metric(metrics.scrape(), "serveur_http_unauthorized_total")).isEqualTo(1);
    }

    @Test
    void withoutATokenMetricsIsOpenAndNothingIsCounted() throws Exception {
        int port = endpoint(true, null).port();
        HttpResponse<String> scrape = get(https, "https://127.0.0.1:" + port + "/metrics",
                Map.of("Authorization", "Bearer anything"));
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(Probe.metric(scrape.body(), "serveur_http_unauthorized_total")).isZero();
    }

    /**
     * The command line's options end to end, in the server's own process: HTTPS from the sensor port's own files,
     * the token, and the log: no warning about a token in clear, one line for several refusals.
     */
    @Test
    void theServerProcessServesHttpsWithATokenAndLogsRefusalsOnce() throws Exception {
        Path token = Files.writeString(dir.resolve("metrics.token"), "  " + TOKEN + "\n");
        try (ServerProcess server = ServerProcess.start(dir, List.of(), List.of("-Xmx128m"),
                "--store", "sqlite:" + dir.resolve("mesures.db"),
                "--tls-port", "0", "--tls-cert", pki.certificate().toString(), "--tls-key", pki.key().toString(),
                "--http-tls-cert", pki.certificate().toString(), "--http-tls-key", pki.key().toString(),
                "--http-token-file", token.toString())) {
            String metricsUrl = "https://127.0.0.1:" + server.httpPort + "/metrics";
            for (int i = 0; i < 5; i++) {
                assertThat(get(https, metricsUrl, Map.of("Authorization", "Bearer wrong")).statusCode())
                        .isEqualTo(401);
            }
            HttpResponse<String> right = get(https, metricsUrl, Map.of("Authorization", "Bearer " + TOKEN));
            assertThat(right.statusCode()).isEqualTo(200);
            assertThat(Probe.metric(right.body(), "serveur_http_unauthorized_total")).isEqualTo(5);
            assertThat(get(https, "https://127.0.0.1:" + server.httpPort + "/health", Map.of()).statusCode())
                    .isEqualTo(200);

            String log = Files.readString(server.log);
            assertThat(log).contains("HTTPS on the HTTP port, /metrics with a token").doesNotContain("in clear");
            assertThat(log.lines().filter(line -> line.contains("refused /metrics"))).singleElement().asString()
                    .contains("127.0.0.1", "wrong token").doesNotContain(TOKEN, "Bearer");
        }
    }

    @Test
    void aTokenOverPlainHttpIsWarnedAboutOnceAtStart() throws Exception {
        Path token = Files.writeString(dir.resolve("metrics.token"), TOKEN);
        try (ServerProcess server = ServerProcess.start(dir, List.of(), List.of("-Xmx128m"),
                "--store", "sqlite:" + dir.resolve("mesures.db"), "--http-token-file", token.toString())) {
            assertThat(get(plain, "http://127.0.0.1:" + server.httpPort + "/metrics", Map.of()).statusCode())
                    .isEqualTo(401);
            assertThat(Files.readString(server.log).lines().filter(line -> line.contains("in clear")))
                    .singleElement().asString().contains("WARN", "/metrics requires a token");
        }
    }
}
