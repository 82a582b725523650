package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import fr.mesures.common.tls.CertifiedKey;
import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.Validity;
import fr.mesures.serveur.metrics.HttpSecurity;
import fr.mesures.serveur.network.TlsListen;
import fr.mesures.serveur.reload.LogCapture;
import fr.mesures.serveur.reload.Reloader;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP port following its files while the server runs: the {@code /metrics} token edited or broken, the HTTPS
 * certificate renewed (the same files as the sensor port's, as an operator would give both). Real Jetty, real HTTPS
 * over loopback with the JDK's HttpClient trusting a private CA, files replaced as a renewal replaces them, and the
 * server's own reload thread polling every 200 ms.
 */
@Timeout(120)
class HttpReloadTest {

    private static final Duration PERIOD = Duration.ofMillis(200);
    private static final String OLD_TOKEN = "old-token_for.prometheus~1";
    private static final String NEW_TOKEN = "new-token_for.prometheus~22";
    private static final Validity ONE_DAY = Validity.fromNow(Duration.ofDays(1));

    @TempDir
    Path dir;
    TestPki pki;
    CertifiedKey first;
    HttpClient https;
    Path tokenFile;
    RunningServeur server;
    LogCapture logs;

    @BeforeEach
    void setUp() throws IOException {
        pki = new TestPki(dir, "mesures test CA", Validity.fromNow(Duration.ofDays(30)));
        first = pki.issueServer(ONE_DAY);
        pki.install(first);
        ClientTls client = pki.client();
        https = HttpClient.newBuilder().sslContext(client.context()).connectTimeout(Duration.ofSeconds(5)).build();
        tokenFile = replace(dir.resolve("metrics.token"), OLD_TOKEN + "\n");
        logs = LogCapture.of(Reloader.class);
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
        logs.close();
    }

    /** The server with HTTPS and the token from the test's files, and the sensor TLS port on the same files. */
    private RunningServeur start() throws Exception {
        Reloader reloader = new Reloader(PERIOD);
        TlsListen tls = TlsListen.reloading(0, new TlsListen.Files(pki.certificate, pki.key, null, ClientAuth.NONE),
                TlsListen.DEFAULT_HANDSHAKE_TIMEOUT, reloader);
        HttpSecurity security = HttpSecurity.reloading(pki.certificate, pki.key, tokenFile, reloader);
        return RunningServeur.start(dir.resolve("mesures.db"), "sqlite:",
                b -> b.httpPort(0).tls(tls).reloader(reloader).httpSecurity(security));
    }

    /** Writes {@code content} beside {@code file}, then renames it over: how editors and secret mounts replace. */
    private static Path replace(Path file, String content) throws IOException {
        Path next = Files.writeString(file.resolveSibling(file.getFileName() + ".next"), content);
        return Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private String url(String path) {
        return "https://127.0.0.1:" + server.serveur.httpPort() + path;
    }

    private HttpResponse<String> get(String path, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(5));
        headers.forEach(request::header);
        return https.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private int metricsWith(String token) throws Exception {
        return get("/metrics", Map.of("Authorization", "Bearer " + token)).statusCode();
    }

    private double failures(String what) {
        return server.metric("serveur_reload_failures_total", "what", what);
    }

    private static BigInteger serial(SSLSession session) {
        try {
            return ((X509Certificate) session.getPeerCertificates()[0]).getSerialNumber();
        } catch (SSLPeerUnverifiedException e) {
            throw new AssertionError("no certificate from the server", e);
        }
    }

    @Test
    void aChangedTokenIsRequiredFromTheNextRequestOn() throws Exception {
        server = start();
        assertThat(metricsWith(OLD_TOKEN)).isEqualTo(200);
        assertThat(metricsWith(NEW_TOKEN)).isEqualTo(401);

        replace(tokenFile, "  " + NEW_TOKEN + "\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> metricsWith(NEW_TOKEN) == 200);
        assertThat(metricsWith(OLD_TOKEN)).isEqualTo(401);
        assertThat(get("/metrics", Map.of()).statusCode()).isEqualTo(401);
        assertThat(get("/health", Map.of()).statusCode()).isEqualTo(200);

        assertThat(failures("http-token")).isZero();
        assertThat(logs.at(Level.WARN)).isEmpty();
        assertThat(logs.at(Level.INFO)).anyMatch(line -> line.startsWith("http-token reloaded from " + tokenFile))
                .noneMatch(line -> line.contains(OLD_TOKEN) || line.contains(NEW_TOKEN));
    }

    @Test
    void aBrokenTokenFileKeepsTheOldTokenWithOneWarningUntilAGoodOne() throws Exception {
        server = start();
        replace(tokenFile, "\n\n");
        // The first look at a changed file is quiet (it may be half-written); the next one warns and counts.
        await().atMost(Duration.ofSeconds(10)).until(() -> failures("http-token") == 1);
        assertThat(metricsWith(OLD_TOKEN)).as("the token in use is kept").isEqualTo(200);
        assertThat(get("/metrics", Map.of()).statusCode()).as("an empty file does not open /metrics").isEqualTo(401);
        assertThat(logs.at(Level.WARN)).singleElement().asString()
                .startsWith("http-token not reloaded: the token file " + tokenFile + " is empty")
                .contains("still using the one loaded at");

        replace(tokenFile, "a token\n"); // a blank inside: broken again, differently
        await().atMost(Duration.ofSeconds(10)).until(() -> failures("http-token") == 2);
        assertThat(metricsWith(OLD_TOKEN)).isEqualTo(200);
        assertThat(logs.at(Level.WARN)).hasSize(2).last().asString().contains("holds a blank");

        replace(tokenFile, NEW_TOKEN);
        await().atMost(Duration.ofSeconds(10)).until(() -> metricsWith(NEW_TOKEN) == 200);
        assertThat(metricsWith(OLD_TOKEN)).isEqualTo(401);
        assertThat(failures("http-token")).isEqualTo(2);
        assertThat(logs.at(Level.WARN)).hasSize(2);
    }

    /**
     * One renewal of the files both ports read: new HTTPS connections, and new sensor TLS connections, get the
     * new certificate; a connection opened before keeps the old one and is still answered; {@code /health}, asked
     * all along on connections of their own, never fails.
     */
    @Test
    void aRenewedCertificateIsServedToNewHttpsConnectionsWhileHealthKeepsAnswering() throws Exception {
        server = start();
        HttpResponse<String> before = get("/health", Map.of());
        assertThat(serial(before.sslSession().orElseThrow())).isEqualTo(first.leaf().getSerialNumber());

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger answered = new AtomicInteger();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread checker = new Thread(() -> {
            while (!stop.get() && failed.get() == null) {
                try {
                    HttpResponse<String> health = get("/health", Map.of());
                    if (health.statusCode() != 200) {
                        failed.set(new AssertionError("/health answered " + health.statusCode()));
                    }
                    answered.incrementAndGet();
                } catch (Exception e) {
                    failed.set(e);
                }
            }
        }, "health-checker");
        try (SSLSocket open = (SSLSocket) pki.client().context().getSocketFactory()
                .createSocket("127.0.0.1", server.serveur.httpPort())) {
            open.setSoTimeout(5_000);
            open.startHandshake();
            checker.start();
            await().atMost(Duration.ofSeconds(5)).until(() -> answered.get() >= 3);

            CertifiedKey renewed = pki.issueServer(Validity.fromNow(Duration.ofDays(2)));
            long renewedAt = System.nanoTime();
            pki.install(renewed);
            BigInteger renewedSerial = renewed.leaf().getSerialNumber();
            await().atMost(Duration.ofSeconds(10)).until(
                    () -> serial(get("/health", Map.of()).sslSession().orElseThrow()).equals(renewedSerial));
            System.out.printf("HTTPS rotation: a renewal polled every %d ms was served after %d ms%n",
                    PERIOD.toMillis(), (System.nanoTime() - renewedAt) / 1_000_000);
            int answeredAtRenewal = answered.get();
            await().atMost(Duration.ofSeconds(5)).until(() -> answered.get() >= answeredAtRenewal + 3);
            stop.set(true);
            checker.join(10_000);
            assertThat(failed.get()).as("/health during the renewal").isNull();

            assertThat(serial(open.getSession())).as("a connection opened before keeps its certificate")
                    .isEqualTo(first.leaf().getSerialNumber());
            open.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(open.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1))
                    .startsWith("HTTP/1.1 200");

            assertThat(TestPki.served(server.tlsPort(), pki.client()).getSerialNumber())
                    .as("the sensor port, renewed by the same files").isEqualTo(renewedSerial);
            assertThat(metricsWith(OLD_TOKEN)).isEqualTo(200);
        } finally {
            stop.set(true);
            checker.join(10_000);
        }
        assertThat(failures("http-tls")).isZero();
        assertThat(failures("tls")).isZero();
        assertThat(logs.at(Level.WARN)).isEmpty();
        assertThat(logs.at(Level.INFO)).anyMatch(line -> line.startsWith("http-tls reloaded from"))
                .anyMatch(line -> line.startsWith("tls reloaded from"));
    }

    @Test
    void aBrokenCertificateKeepsTheOneServedAndIsCounted() throws Exception {
        server = start();
        Files.writeString(pki.certificate, "not a certificate\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> failures("http-tls") == 1);
        HttpResponse<String> health = get("/health", Map.of());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(serial(health.sslSession().orElseThrow())).isEqualTo(first.leaf().getSerialNumber());
        assertThat(logs.at(Level.WARN)).anyMatch(line -> line.startsWith("http-tls not reloaded: ")
                && line.contains(pki.certificate.toString()));
    }

    /** The command line's options end to end, in the server's own process, with its default period (a second). */
    @Test
    void theServerProcessTakesANewTokenAndCertificateWithoutARestart() throws Exception {
        try (ServerProcess process = ServerProcess.start(dir, List.of(), List.of("-Xmx128m"),
                "--store", "sqlite:" + dir.resolve("mesures.db"),
                "--http-tls-cert", pki.certificate.toString(), "--http-tls-key", pki.key.toString(),
                "--http-token-file", tokenFile.toString())) {
            String metricsUrl = "https://127.0.0.1:" + process.httpPort + "/metrics";
            HttpRequest withOld = HttpRequest.newBuilder(URI.create(metricsUrl)).timeout(Duration.ofSeconds(5))
                    .header("Authorization", "Bearer " + OLD_TOKEN).build();
            HttpRequest withNew = HttpRequest.newBuilder(URI.create(metricsUrl)).timeout(Duration.ofSeconds(5))
                    .header("Authorization", "Bearer " + NEW_TOKEN).build();
            assertThat(https.send(withOld, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

            CertifiedKey renewed = pki.issueServer(ONE_DAY);
            pki.install(renewed);
            replace(tokenFile, NEW_TOKEN);
            // The token and the certificate are two watches: either may be taken a poll before the other.
            HttpResponse<String> scrape = await().atMost(Duration.ofSeconds(15)).until(
                    () -> https.send(withNew, HttpResponse.BodyHandlers.ofString()),
                    response -> response.statusCode() == 200 && serial(response.sslSession().orElseThrow())
                            .equals(renewed.leaf().getSerialNumber()));
            assertThat(Probe.metric(scrape.body(), "serveur_reload_failures_total", "what", "http-token")).isZero();
            assertThat(Probe.metric(scrape.body(), "serveur_reload_failures_total", "what", "http-tls")).isZero();
            assertThat(https.send(withOld, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
            assertThat(Files.readString(process.log)).contains("http-token reloaded from", "HTTPS: new connections get");
        }
    }
}
