package fr.mesures.capteur.it;

import static fr.mesures.capteur.it.Commands.capteur;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.capteur.CapteurFleet;
import fr.mesures.capteur.CapteurSettings;
import fr.mesures.capteur.network.Backoff;
import fr.mesures.capteur.source.LimitedSource;
import fr.mesures.capteur.source.SimulatedTemperatures;
import fr.mesures.common.tls.Certificates;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PemFileWriter;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.ServerTls;
import fr.mesures.common.tls.TlsContexts;
import fr.mesures.common.tls.Validity;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Sensors over TLS against the real server's TLS port, certificates made here by a private authority. */
class TlsDeliveryTest {

    private static final Validity CURRENT = Validity.fromNow(Duration.ofDays(1));

    @TempDir
    Path dir;
    Path ca;
    ServerTls serverTls;

    @BeforeEach
    void certificates() throws Exception {
        PrivatePki pki = PrivatePki.create(dir, List.of("localhost", "127.0.0.1"), CURRENT, KeyFormat.SEC1);
        ca = pki.authority();
        serverTls = pki.server();
    }

    @Test
    @Timeout(60)
    void twentySensorsOverTlsStoreExactlyAThousandRows() throws Exception {
        try (var server = InProcessServer.startTls(dir.resolve("mesures.db"), 0, serverTls)) {
            int code = capteur("--server", "localhost:" + server.tlsPort(), "--tls-ca", ca.toString(), "--id",
                    "chiffre", "--sensors", "20", "--count", "50", "--interval", "10ms", "--give-up-after", "50s");

            assertThat(code).isZero();
            assertThat(server.mesures().count()).isEqualTo(1000);
            assertThat(server.mesures().distinctSensors()).isEqualTo(20);
            assertThat(server.metric("serveur_tls_handshakes_total")).isEqualTo(20);
        }
    }

    @Test
    @Timeout(60)
    void aServerWhoseCertificateComesFromAnotherAuthorityIsNeverSentAReading() throws Exception {
        Path stranger = dir.resolve("stranger.pem");
        PemFileWriter.writeCertificates(stranger, Certificates.authority("someone else", CURRENT).chain());
        try (var server = InProcessServer.startTls(dir.resolve("mesures.db"), 0, serverTls)) {
            int code = capteur("--server", "localhost:" + server.tlsPort(), "--tls-ca", stranger.toString(), "--id",
                    "dupe", "--count", "5", "--interval", "10ms", "--give-up-after", "2s");

            assertThat(code).isNotZero();
            assertThat(server.mesures().count()).isZero();
            assertThat(server.metric("serveur_tls_handshakes_total")).isZero();
            // The sensor tells the server why (the alert tls-channel would drop): a certificate failure, not a close.
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    server.metric("serveur_tls_handshake_failures_total", "reason", "certificate") >= 1);
            assertThat(server.metric("serveur_tls_handshake_failures_total", "reason", "closed")).isZero();
        }
    }

    @Test
    @Timeout(120)
    void aTlsServerRestartedMidRunEndsWithEveryReadingOnce() throws Exception {
        int k = 5;
        int n = 200;
        int port;
        try (var probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path database = dir.resolve("mesures.db");
        CapteurSettings settings = CapteurSettings.builder("127.0.0.1", port)
                .interval(Duration.ofMillis(10))
                .connectTimeout(Duration.ofSeconds(2))
                .ackTimeout(Duration.ofSeconds(5))
                .backoff(new Backoff.Policy(Duration.ofMillis(50), Duration.ofMillis(500)))
                .tls(TlsContexts.client(ca, null, null, false))
                .build();
        List<String> ids = CapteurFleet.ids("reprise", k);
        try (var fleet = CapteurFleet.startWithClocks(ids, i -> new LimitedSource(new SimulatedTemperatures(i), n),
                settings, i -> new AtomicLong(1_764_000_000_000L)::getAndIncrement)) {
            long before;
            try (var first = InProcessServer.startTls(database, port, serverTls)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> fleet.acknowledged() >= 200);
                before = fleet.acknowledged();
            }
            try (var second = InProcessServer.startTls(database, port, serverTls)) {
                assertThat(fleet.awaitFinished(Duration.ofSeconds(60))).isTrue();
                assertThat(fleet.outcome().exitCode()).as(fleet.outcome().toString()).isZero();
                assertThat(fleet.outcome().acknowledged()).isEqualTo((long) k * n);
                assertThat(before).isLessThan((long) k * n); // the restart really was mid-run
                assertThat(second.mesures().count()).isEqualTo((long) k * n);
            }
        }
    }
}
