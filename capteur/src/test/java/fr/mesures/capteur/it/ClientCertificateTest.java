package fr.mesures.capteur.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.capteur.CapteurFleet;
import fr.mesures.capteur.CapteurSettings;
import fr.mesures.capteur.network.Backoff;
import fr.mesures.capteur.source.LimitedSource;
import fr.mesures.capteur.source.SimulatedTemperatures;
import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.Validity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS against the real server's TLS port asking for client certificates: a sensor with a certificate from
 * the server's client authority delivers; one the server refuses at the TLS level (no certificate, or one from
 * another authority) stops at once rather than handshaking again and again; a server the sensor itself does not
 * trust is retried (it may be given a right certificate).
 */
class ClientCertificateTest {

    private static final long T = 1_764_000_000_000L;
    private static final Validity CURRENT = Validity.fromNow(Duration.ofDays(1));

    @TempDir
    Path dir;
    PrivatePki pki;

    @BeforeEach
    void pki() throws Exception {
        pki = authority("mesures");
    }

    private PrivatePki authority(String name) throws Exception {
        return PrivatePki.create(Files.createDirectories(dir.resolve(name)), List.of("localhost", "127.0.0.1"),
                CURRENT, KeyFormat.PKCS8);
    }

    private static CapteurSettings settings(int port, ClientTls tls) {
        return CapteurSettings.builder("localhost", port)
                .interval(Duration.ofMillis(5))
                .connectTimeout(Duration.ofSeconds(2))
                .ackTimeout(Duration.ofSeconds(5))
                .backoff(new Backoff.Policy(Duration.ofMillis(20), Duration.ofMillis(100)))
                .tls(tls)
                .build();
    }

    private static CapteurFleet fleet(String id, int readings, CapteurSettings settings) {
        return CapteurFleet.startWithClocks(List.of(id), i -> new LimitedSource(new SimulatedTemperatures(i), readings),
                settings, i -> new AtomicLong(T)::getAndIncrement);
    }

    @Test
    @Timeout(60)
    void aSensorWithACertificateFromTheClientAuthorityDelivers() throws Exception {
        List<Path> own = pki.issueClient("serre", CURRENT);
        try (var server = InProcessServer.startTls(dir.resolve("mesures.db"), 0, pki.server(ClientAuth.REQUIRED));
             var fleet = fleet("serre", 200, settings(server.tlsPort(), pki.client(own.get(0), own.get(1))))) {

            assertThat(fleet.awaitFinished(Duration.ofSeconds(30))).isTrue();
            assertThat(fleet.outcome().exitCode()).as(fleet.outcome().toString()).isZero();
            assertThat(server.mesures().count()).isEqualTo(200);
            assertThat(server.metric("serveur_tls_handshakes_total")).isEqualTo(1);
        }
    }

    @Test
    @Timeout(60)
    void noCertificateForAServerThatRequiresOneStopsTheSensorAfterOneHandshake() throws Exception {
        try (var server = InProcessServer.startTls(dir.resolve("mesures.db"), 0, pki.server(ClientAuth.REQUIRED));
             var fleet = fleet("anonyme", 200, settings(server.tlsPort(), pki.client()))) {

            assertThat(fleet.awaitFinished(Duration.ofSeconds(10))).isTrue();
            var refusal = fleet.outcome().refusal();
            assertThat(refusal).isNotNull();
            assertThat(refusal.reason()).startsWith("tls:");
            assertThat(refusal.message()).contains("--tls-cert");
            await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(3))
                    .until(() -> server.metric("serveur_tls_handshake_failures_total") == 1);
            assertThat(server.mesures().count()).isZero();
        }
    }

    @Test
    @Timeout(60)
    void aCertificateFromAnotherAuthorityStopsTheSensor() throws Exception {
        List<Path> foreign = authority("ailleurs").issueClient("intrus", CURRENT);
        try (var server = InProcessServer.startTls(dir.resolve("mesures.db"), 0, pki.server(ClientAuth.REQUIRED));
             var fleet = fleet("intrus", 200, settings(server.tlsPort(), pki.client(foreign.get(0), foreign.get(1))))) {

            assertThat(fleet.awaitFinished(Duration.ofSeconds(10))).isTrue();
            assertThat(fleet.outcome().refusal()).isNotNull();
            await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(3))
                    .until(() -> server.metric("serveur_tls_handshake_failures_total") == 1);
        }
    }

    @Test
    @Timeout(60)
    void aServerTheSensorDoesNotTrustIsTriedAgainWithTheBackoff() throws Exception {
        PrivatePki stranger = authority("ailleurs");
        try (var server = InProcessServer.startTls(dir.resolve("mesures.db"), 0, pki.server());
             var fleet = fleet("prudent", 200, settings(server.tlsPort(), stranger.client()))) {

            await().atMost(Duration.ofSeconds(10)).until(() -> fleet.connectionFailures() >= 5);
            assertThat(fleet.outcome().refusal()).isNull();
            assertThat(fleet.outcome().finished()).isZero();
            assertThat(server.mesures().count()).isZero();
        }
    }
}
