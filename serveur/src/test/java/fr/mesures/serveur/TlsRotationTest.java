package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import fr.mesures.common.tls.CertifiedKey;
import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.PemFileWriter;
import fr.mesures.common.tls.Validity;
import fr.mesures.protocole.Reading;
import fr.mesures.protocole.Reply;
import fr.mesures.serveur.network.TlsListen;
import fr.mesures.serveur.reload.LogCapture;
import fr.mesures.serveur.reload.Reloader;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's certificate renewed while it runs, as certbot or cert-manager would renew it: files replaced
 * beside a running server whose TLS connections stay open; real TLS over loopback, a real SQLite file.
 */
@Timeout(180)
class TlsRotationTest {

    private static final Validity ONE_DAY = Validity.fromNow(Duration.ofDays(1));
    /** The reload thread never polls on its own: the test polls with {@link Reloader#checkNow()}. */
    private static final Duration BY_HAND = Duration.ofHours(1);

    @TempDir
    Path dir;
    TestPki pki;
    CertifiedKey first;
    ClientTls clientTls;
    Reloader reloader;
    RunningServeur server;
    LogCapture logs;

    @BeforeEach
    void setUp() throws IOException {
        pki = new TestPki(dir, "mesures test CA", Validity.fromNow(Duration.ofDays(30)));
        first = pki.issueServer(ONE_DAY);
        pki.install(first);
        clientTls = pki.client();
        logs = LogCapture.of(Reloader.class);
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
        logs.close();
    }

    private RunningServeur start(Duration period) throws Exception {
        reloader = new Reloader(period);
        TlsListen tls = TlsListen.reloading(0, new TlsListen.Files(pki.certificate, pki.key, null, ClientAuth.NONE),
                TlsListen.DEFAULT_HANDSHAKE_TIMEOUT, reloader);
        return RunningServeur.start(dir.resolve("mesures.db"), "sqlite:", b -> b.tls(tls).reloader(reloader));
    }

    private TestClient connectTls() throws IOException {
        return TestClient.connectTls(server.tlsPort(), clientTls.context(), clientTls.parameters());
    }

    private BigInteger servedSerial() throws IOException {
        return TestPki.served(server.tlsPort(), clientTls).getSerialNumber();
    }

    private static BigInteger peerSerial(TestClient client) throws IOException {
        return ((X509Certificate) ((SSLSocket) client.socket()).getSession().getPeerCertificates()[0])
                .getSerialNumber();
    }

    private static String readings(String id, int from, int to) {
        var text = new StringBuilder();
        for (int i = from; i < to; i++) {
            text.append(new Reading(id, i % 40, 1_764_000_000_000L + i).toJson());
        }
        return text.toString();
    }

    private double failures() {
        return server.metric("serveur_reload_failures_total", "what", "tls");
    }

    private double secondsUntil(X509Certificate leaf) {
        return (leaf.getNotAfter().getTime() - System.currentTimeMillis()) / 1000.0;
    }

    @Test
    void hundredOpenConnectionsKeepSendingWhileNewOnesGetTheRenewedCertificate() throws Exception {
        server = start(Duration.ofMillis(200));
        assertThat(servedSerial()).isEqualTo(first.leaf().getSerialNumber());
        int connections = 100;
        List<TestClient> open = new ArrayList<>();
        try {
            for (int c = 0; c < connections; c++) {
                open.add(connectTls());
            }
            for (int c = 0; c < connections; c++) {
                open.get(c).requestAcks().send(readings("capteur_" + c, 0, 500));
            }
            for (TestClient client : open) {
                assertThat(client.untilAck(501)).last().isEqualTo(new Reply.Ack(501));
            }

            CertifiedKey renewed = pki.issueServer(Validity.fromNow(Duration.ofDays(2)));
            long renewedAt = System.nanoTime();
            pki.install(renewed);
            await().atMost(Duration.ofSeconds(10)).until(this::servedSerial,
                    serial -> serial.equals(renewed.leaf().getSerialNumber()));
            System.out.printf("TLS rotation: a renewal polled every 200 ms was served after %d ms%n",
                    (System.nanoTime() - renewedAt) / 1_000_000);

            for (int c = 0; c < connections; c++) {
                TestClient client = open.get(c);
                assertThat(peerSerial(client)).as("an open connection keeps its certificate")
                        .isEqualTo(first.leaf().getSerialNumber());
                client.send(readings("capteur_" + c, 500, 1_000));
            }
            for (TestClient client : open) {
                List<Reply> replies = client.finish();
                assertThat(replies).last().isEqualTo(new Reply.Ack(1_001));
                assertThat(replies).allMatch(r -> r instanceof Reply.Ack);
            }
            assertThat(server.metric("serveur_tls_certificate_expiry_seconds"))
                    .isCloseTo(secondsUntil(renewed.leaf()), within(60.0));
        } finally {
            for (TestClient client : open) {
                client.close();
            }
        }
        ExactlyOnce.storedOnce(server, connections, 1_000);
        assertThat(failures()).isZero();
        assertThat(logs.at(Level.WARN)).isEmpty();
        assertThat(logs.at(Level.INFO)).anyMatch(line -> line.startsWith("tls reloaded from"));
    }

    /** A new file that cannot be served, and the words of the warning that refuses it. */
    private record Broken(String name, String problem, Installer installer) {
    }

    @FunctionalInterface
    private interface Installer {
        void install() throws IOException;
    }

    @Test
    void brokenFilesAreRefusedWithOneWarningWhileTheOldCertificateIsServedUntilAGoodOne() throws Exception {
        server = start(BY_HAND);
        assertThat(server.metric("serveur_tls_certificate_expiry_seconds"))
                .isCloseTo(secondsUntil(first.leaf()), within(60.0));
        assertThat(failures()).isZero();
        Instant now = Instant.now();
        List<Broken> broken = List.of(
                new Broken("garbage instead of a certificate", "serveur.crt",
                        () -> Files.writeString(pki.certificate, "not a certificate\n")),
                new Broken("a certificate whose key is not in the key file", "does not belong to this certificate",
                        () -> {
                            pki.install(first);
                            PemFileWriter.writeCertificates(pki.certificate, pki.issueServer(ONE_DAY).chain());
                        }),
                new Broken("an expired certificate", "expired", () -> pki.install(pki.issueServer(
                        new Validity(now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)))))));

        try (TestClient open = connectTls()) {
            open.requestAcks().send(readings("ouvert", 0, 1)).untilAck(2);
            for (Broken files : broken) {
                double before = failures();
                int warnings = logs.at(Level.WARN).size();
                files.installer().install();
                reloader.checkNow();
                assertThat(logs.at(Level.WARN)).as("%s, first look: perhaps half-replaced", files.name())
                        .hasSize(warnings);
                for (int poll = 0; poll < 3; poll++) {
                    reloader.checkNow();
                }
                assertThat(logs.at(Level.WARN)).as(files.name()).hasSize(warnings + 1).last().asString()
                        .startsWith("tls not reloaded: ").contains(pki.certificate.toString(), files.problem());
                assertThat(failures()).as(files.name()).isEqualTo(before + 1);
                assertThat(server.metric("serveur_reload_refusing", "what", "tls")).as(files.name()).isEqualTo(1);
                assertThat(servedSerial()).as(files.name()).isEqualTo(first.leaf().getSerialNumber());
            }

            CertifiedKey renewed = pki.issueServer(Validity.fromNow(Duration.ofDays(2)));
            pki.install(renewed);
            reloader.checkNow();
            assertThat(servedSerial()).isEqualTo(renewed.leaf().getSerialNumber());
            assertThat(server.metric("serveur_tls_certificate_expiry_seconds"))
                    .isCloseTo(secondsUntil(renewed.leaf()), within(60.0));
            assertThat(failures()).isEqualTo(broken.size());
            assertThat(server.metric("serveur_reload_refusing", "what", "tls")).isZero();
            open.send(readings("ouvert", 1, 2));
            assertThat(open.finish()).last().isEqualTo(new Reply.Ack(3));
        }
        assertThat(server.rows("capteur_id = 'ouvert'")).isEqualTo(2);
    }

    @Test
    void aRenewalSeenBetweenTheCertificateAndItsKeyIsTakenWithoutAWarning() throws Exception {
        server = start(BY_HAND);
        CertifiedKey renewed = pki.issueServer(ONE_DAY);
        PemFileWriter.writeCertificates(pki.certificate, renewed.chain());
        reloader.checkNow();
        assertThat(servedSerial()).isEqualTo(first.leaf().getSerialNumber());

        pki.install(renewed);
        reloader.checkNow();
        assertThat(servedSerial()).isEqualTo(renewed.leaf().getSerialNumber());
        assertThat(logs.at(Level.WARN)).isEmpty();
        assertThat(logs.at(Level.INFO)).first().asString().startsWith("tls not reloaded yet: ")
                .contains("does not belong to this certificate");
        assertThat(failures()).isZero();
    }
}
