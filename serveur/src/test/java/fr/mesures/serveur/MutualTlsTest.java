package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.PemFileWriter;
import fr.mesures.common.tls.TlsContexts;
import fr.mesures.common.tls.Validity;
import fr.mesures.protocole.Reading;
import fr.mesures.protocole.Reply;
import fr.mesures.serveur.network.TlsListen;
import fr.mesures.serveur.reload.Reloader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client certificates on the TLS port ({@code --tls-client-ca}, {@code --tls-client-auth}), end to end: the
 * server's own CA, a CA for the sensors and a stranger's CA, made here; JDK TLS clients over loopback. What the
 * server does with an accepted client's identity is not tested here, only who gets through the handshake.
 */
@Timeout(120)
class MutualTlsTest {

    private static final Validity CURRENT = Validity.fromNow(Duration.ofDays(1));

    @TempDir
    Path dir;
    TestPki serveurPki;
    TestPki capteursPki;
    TestPki strangerPki;
    Reloader reloader;
    RunningServeur server;

    @BeforeEach
    void setUp() throws IOException {
        serveurPki = new TestPki(dir, "serveur CA", CURRENT);
        serveurPki.install(serveurPki.issueServer(CURRENT));
        capteursPki = new TestPki(dir, "capteurs CA", CURRENT);
        strangerPki = new TestPki(dir, "stranger CA", CURRENT);
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
    }

    private RunningServeur start(ClientAuth clientAuth) throws Exception {
        reloader = new Reloader(Duration.ofHours(1));
        TlsListen tls = TlsListen.reloading(0, new TlsListen.Files(serveurPki.certificate, serveurPki.key,
                capteursPki.authorityFile, clientAuth), TlsListen.DEFAULT_HANDSHAKE_TIMEOUT, reloader);
        return RunningServeur.start(dir.resolve("mesures.db"), "sqlite:", b -> b.tls(tls).reloader(reloader));
    }

    /** A sensor trusting the server's CA and presenting a certificate of {@code issuer}, or none. */
    private ClientTls capteur(TestPki issuer, String name) throws IOException {
        if (issuer == null) {
            return serveurPki.client();
        }
        Path[] files = issuer.issueClientFiles(dir, name, CURRENT);
        return TlsContexts.client(serveurPki.authorityFile, files[0], files[1], false);
    }

    /** Sends one reading and waits for its ack. */
    private void send(ClientTls tls, String capteurId) throws IOException {
        try (TestClient client = TestClient.connectTls(server.tlsPort(), tls.context(), tls.parameters())) {
            client.requestAcks().send(new Reading(capteurId, 20, 1_764_000_000_000L).toJson());
            assertThat(client.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
        }
    }

    /**
     * Sends as {@link #send} and expects to be refused. Over TLS 1.3 the client's side of the handshake ends
     * before the server has checked its certificate: the refusal comes as an alert at the first read.
     */
    private void refused(ClientTls tls, String capteurId) {
        double before = certificateFailures();
        assertThatThrownBy(() -> send(tls, capteurId)).as(capteurId).isInstanceOf(IOException.class);
        await().atMost(Duration.ofSeconds(5)).until(this::certificateFailures, n -> n == before + 1);
    }

    private double certificateFailures() {
        return server.metric("serveur_tls_handshake_failures_total", "reason", "certificate");
    }

    @Test
    void requiredRefusesAClientWithoutACertificateOrWithAStrangersAndTakesOneOfTheClientCa() throws Exception {
        server = start(ClientAuth.REQUIRED);
        refused(capteur(null, "anonyme"), "anonyme");
        refused(capteur(strangerPki, "etranger"), "etranger");
        send(capteur(capteursPki, "capteur_1"), "capteur_1");

        assertThat(server.rows()).isEqualTo(1);
        assertThat(server.rows("capteur_id = 'capteur_1'")).isEqualTo(1);
        assertThat(server.metric("serveur_tls_handshakes_total")).isEqualTo(1);
        assertThat(certificateFailures()).isEqualTo(2);
    }

    @Test
    void optionalTakesAClientWithoutACertificateButChecksOneThatIsSent() throws Exception {
        server = start(ClientAuth.OPTIONAL);
        send(capteur(null, "anonyme"), "anonyme");
        send(capteur(capteursPki, "capteur_1"), "capteur_1");
        // A JDK client offers only a certificate of an authority the server names, so the stranger's would go
        // unsent; OpenSSL sends the one it is given, whoever issued it.
        Path[] stranger = strangerPki.issueClientFiles(dir, "etranger", CURRENT);
        double before = certificateFailures();
        Process openssl = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + server.tlsPort(),
                "-CAfile", serveurPki.authorityFile.toString(), "-cert", stranger[0].toString(), "-key",
                stranger[1].toString()).redirectErrorStream(true).start();
        openssl.getOutputStream().write((new Reading("etranger", 20, 1L).toJson() + "\n")
                .getBytes(StandardCharsets.UTF_8));
        openssl.getOutputStream().close();
        // It ends at the end of its input without reading the server's alert: the server's side tells.
        String said = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(openssl.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(said).as("the server asked for a certificate").contains("Acceptable client certificate CA names");
        await().atMost(Duration.ofSeconds(5)).until(this::certificateFailures, n -> n == before + 1);
        assertThat(server.rows()).isEqualTo(2);
        assertThat(server.rows("capteur_id = 'etranger'")).isZero();
    }

    @Test
    void aReplacedClientCaIsUsedByTheConnectionsThatComeAfter() throws Exception {
        server = start(ClientAuth.REQUIRED);
        ClientTls ofTheOldCa = capteur(capteursPki, "ancien");
        send(ofTheOldCa, "ancien");

        TestPki renewedCa = new TestPki(dir, "capteurs CA 2", CURRENT);
        PemFileWriter.writeCertificates(capteursPki.authorityFile, renewedCa.authority.chain());
        reloader.checkNow();

        send(capteur(renewedCa, "nouveau"), "nouveau");
        refused(ofTheOldCa, "ancien");
        assertThat(server.metric("serveur_reload_failures_total", "what", "tls")).isZero();
    }
}
