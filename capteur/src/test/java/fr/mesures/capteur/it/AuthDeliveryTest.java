package fr.mesures.capteur.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.capteur.CapteurFleet;
import fr.mesures.capteur.CapteurSettings;
import fr.mesures.capteur.auth.AuthToken;
import fr.mesures.capteur.network.Backoff;
import fr.mesures.capteur.source.LimitedSource;
import fr.mesures.capteur.source.SimulatedTemperatures;
import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.Validity;
import fr.mesures.serveur.ServeurSettings;
import fr.mesures.serveur.auth.AuthSettings;
import fr.mesures.serveur.auth.CapteurPattern;
import fr.mesures.serveur.auth.CredentialsFile;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sensors proving who they are to the real server (in process, real TLS, a real credentials file, SQLite): a token
 * accepted through a server restart, a token or its absence refused for good (one connection per sensor, then
 * exit 1 with the server's message), and a client certificate whose common name is the only capteur_id it writes.
 */
class AuthDeliveryTest {

    private static final Validity CURRENT = Validity.fromNow(Duration.ofDays(1));
    private static final long T = 1_764_000_000_000L;

    @TempDir
    Path dir;
    PrivatePki pki;
    Path credentials;
    String serreToken;

    @BeforeEach
    void credentials() throws Exception {
        pki = PrivatePki.create(dir, List.of("localhost", "127.0.0.1"), CURRENT, KeyFormat.PKCS8);
        credentials = dir.resolve("credentials");
        serreToken = new CredentialsFile(credentials).addToken("serre", CapteurPattern.parse("serre_*"));
    }

    private AuthSettings tokensRequired() {
        return AuthSettings.tokens(credentials, true);
    }

    @Test
    @Timeout(120)
    void withItsTokenAFleetStoresEveryReadingOnceThroughAServerRestart() throws Exception {
        int k = 5;
        int n = 200;
        int port;
        try (var probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path database = dir.resolve("mesures.db");
        CapteurSettings settings = CapteurSettings.builder("localhost", port)
                .interval(Duration.ofMillis(10))
                .connectTimeout(Duration.ofSeconds(2))
                .ackTimeout(Duration.ofSeconds(5))
                .backoff(new Backoff.Policy(Duration.ofMillis(50), Duration.ofMillis(500)))
                .tls(pki.client())
                .token(new AuthToken(serreToken))
                .build();
        List<String> ids = CapteurFleet.ids("serre", k);
        try (var fleet = CapteurFleet.startWithClocks(ids, i -> new LimitedSource(new SimulatedTemperatures(i), n),
                settings, i -> new AtomicLong(T)::getAndIncrement)) {
            long before;
            try (var first = InProcessServer.startTls(database, port, pki.server(), tokensRequired())) {
                // Every sensor in, each with one connection (a sensor that started before the server may be a
                // little behind the others).
                await().atMost(Duration.ofSeconds(30)).until(() -> fleet.acknowledged() >= 200
                        && first.metric("serveur_auth_successes_total") == k);
                before = fleet.acknowledged();
            }
            try (var second = InProcessServer.startTls(database, port, pki.server(), tokensRequired())) {
                assertThat(fleet.awaitFinished(Duration.ofSeconds(60))).isTrue();
                var outcome = fleet.outcome();
                assertThat(outcome.exitCode()).as(outcome.toString()).isZero();
                assertThat(outcome.acknowledged()).isEqualTo((long) k * n);
                assertThat(before).isLessThan((long) k * n); // the restart really was mid-run
                assertThat(second.metric("serveur_auth_successes_total")).isGreaterThanOrEqualTo(k);
                assertThat(second.metric("serveur_auth_failures_total")).isZero();
                assertThat(second.mesures().count()).isEqualTo((long) k * n);
                Set<Mesures.Key> expected = new HashSet<>();
                for (String id : ids) {
                    for (int i = 0; i < n; i++) {
                        expected.add(new Mesures.Key(id, T + i));
                    }
                }
                assertThat(second.mesures().keys()).isEqualTo(expected);
            }
        }
    }

    @Test
    @Timeout(60)
    void aTokenRevokedWhileTheFleetRunsStopsItWithoutReconnecting() throws Exception {
        int k = 3;
        try (var server = InProcessServer.startTls(dir.resolve("mesures.db"), 0, pki.server(), tokensRequired())) {
            CapteurSettings settings = CapteurSettings.builder("localhost", server.tlsPort())
                    .interval(Duration.ofMillis(10))
                    .backoff(new Backoff.Policy(Duration.ofMillis(50), Duration.ofMillis(200)))
                    .tls(pki.client())
                    .token(new AuthToken(serreToken))
                    .build();
            try (var fleet = CapteurFleet.startWithClocks(CapteurFleet.ids("serre", k), SimulatedTemperatures::new,
                    settings, i -> new AtomicLong(T)::getAndIncrement)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> fleet.acknowledged() >= 100);
                new CredentialsFile(credentials).revoke("serre");

                assertThat(fleet.awaitFinished(Duration.ofSeconds(20))).isTrue();
                var outcome = fleet.outcome();
                assertThat(outcome.refusal()).isNotNull();
                assertThat(outcome.refusal().reason()).isEqualTo("revoked");
                assertThat(outcome.refusal().message()).contains("\"serre\" was revoked");
                assertThat(outcome.exitCode()).isEqualTo(1);
            }
            assertThat(server.metric("serveur_connections_revoked_total")).isBetween(1.0, (double) k);
            assertThat(server.metric("serveur_connections_total")).isEqualTo(k);
        }
    }

    @Test
    @Timeout(60)
    void aWrongTokenStopsEverySensorAfterOneConnectionAndExits1WithTheServersMessage() throws Exception {
        try (var server = InProcessServer.startTls(dir.resolve("mesures.db"), 0, pki.server(), tokensRequired())) {
            var run = Commands.run("--server", "localhost:" + server.tlsPort(), "--tls-ca", pki.authority().toString(),
                    "--token", "not-the-token", "--id", "serre", "--sensors", "3", "--interval", "10ms",
                    "--max-backoff", "100ms", "--give-up-after", "30s");

            assertThat(run.code()).isEqualTo(1);
            assertThat(run.err().lines()).last().isEqualTo("capteur: the server refused this sensor [unauthorized]:"
                    + " authentication failed: unknown token (wrong, or revoked)");
            // At most one connection per sensor: the first refusal stopped them all, the others' too.
            assertThat(server.metric("serveur_connections_total")).isBetween(1.0, 3.0);
            assertThat(server.metric("serveur_auth_failures_total")).isBetween(1.0, 3.0);
            assertThat(server.mesures().count()).isZero();
        }
    }

    @Test
    @Timeout(60)
    void noTokenForAServerThatRequiresOneIsFinal() throws Exception {
        try (var server = InProcessServer.startTls(dir.resolve("mesures.db"), 0, pki.server(), tokensRequired())) {
            var run = Commands.run("--server", "localhost:" + server.tlsPort(), "--tls-ca", pki.authority().toString(),
                    "--id", "serre_1", "--interval", "10ms", "--max-backoff", "100ms", "--give-up-after", "30s");

            assertThat(run.code()).isEqualTo(1);
            assertThat(run.err().lines()).last().asString()
                    .startsWith("capteur: the server refused this sensor [auth_required]: authentication required");
            assertThat(server.metric("serveur_connections_total")).isEqualTo(1);
            assertThat(server.mesures().count()).isZero();
        }
    }

    @Test
    @Timeout(60)
    void aTokenOnThePlaintextPortOfAServerThatTakesTokensOnlyOverTlsIsFinal() throws Exception {
        try (var server = InProcessServer.start(dir.resolve("mesures.db"), 0,
                ServeurSettings.builder().auth(tokensRequired()))) {
            var run = Commands.run(java.io.InputStream.nullInputStream(), java.util.Map.of("CAPTEUR_TOKEN", serreToken),
                    "--server", server.address(), "--id", "serre_1", "--interval", "10ms", "--max-backoff", "100ms",
                    "--give-up-after", "30s");

            assertThat(run.code()).isEqualTo(1);
            assertThat(run.err().lines()).last().asString()
                    .startsWith("capteur: the server refused this sensor [unauthorized]:");
            assertThat(server.metric("serveur_connections_total")).isEqualTo(1);
            assertThat(server.mesures().count()).isZero();
        }
    }

    @Test
    @Timeout(60)
    void aClientCertificateWritesItsOwnCapteurIdAndNoOther() throws Exception {
        List<Path> serre1 = pki.issueClient("serre_1", CURRENT);
        AuthSettings certificatesRequired = new AuthSettings(null, true, false, AuthSettings.DEFAULT_FAILURE_DELAY);
        try (var server = InProcessServer.startTls(dir.resolve("mesures.db"), 0, pki.server(ClientAuth.REQUIRED),
                certificatesRequired)) {
            String[] common = {"--server", "localhost:" + server.tlsPort(), "--tls-ca", pki.authority().toString(),
                "--tls-cert", serre1.get(0).toString(), "--tls-key", serre1.get(1).toString(), "--count", "20",
                "--interval", "5ms", "--give-up-after", "30s"};

            assertThat(Commands.run(concat(common, "--id", "serre_1")).code()).isZero();
            assertThat(server.mesures().count()).isEqualTo(20);
            assertThat(server.metric("serveur_auth_successes_total")).isEqualTo(1);

            // The same certificate under another name: every reading forbidden, none stored, none sent twice.
            var other = Commands.run(concat(common, "--id", "serre_2"));
            assertThat(other.code()).isEqualTo(1);
            assertThat(server.mesures().count()).isEqualTo(20);
            assertThat(server.mesures().timestamps("serre_2")).isEmpty();
            assertThat(server.metric("serveur_readings_rejected_total")).isEqualTo(20);
            assertThat(server.metric("serveur_connections_total")).isEqualTo(2);
        }
    }

    private static String[] concat(String[] first, String... more) {
        String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }
}
