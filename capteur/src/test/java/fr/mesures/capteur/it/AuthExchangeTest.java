package fr.mesures.capteur.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.capteur.CapteurFleet;
import fr.mesures.capteur.CapteurSettings;
import fr.mesures.capteur.auth.AuthToken;
import fr.mesures.capteur.cli.CapteurCommand;
import fr.mesures.capteur.network.Backoff;
import fr.mesures.capteur.source.LimitedSource;
import fr.mesures.capteur.source.SimulatedTemperatures;
import fr.mesures.protocole.Reply;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The sensor's side of authentication, down to the bytes, against {@link AuthPeer}, a stand-in speaking the
 * documented lines: the token as value 1 of every connection, readings pipelined behind it, and the refusals that
 * stop the sensor (and its fleet) for good instead of a reconnection loop. The sensor under test is the real one.
 */
class AuthExchangeTest {

    private static final long T = 1_764_000_000_000L;
    private static final String TOKEN = "jeton-de-la-serre.42";
    /** Short: the sensor must wait for the refusal whatever the pause; a long one only slows the tests. */
    private static final long PAUSE_MILLIS = 300;

    @TempDir
    Path dir;

    private static CapteurSettings settings(int port, String token) {
        return CapteurSettings.builder("127.0.0.1", port)
                .interval(Duration.ofMillis(5))
                .connectTimeout(Duration.ofSeconds(2))
                .ackTimeout(Duration.ofSeconds(10))
                .backoff(new Backoff.Policy(Duration.ofMillis(20), Duration.ofMillis(100)))
                .token(token == null ? null : new AuthToken(token))
                .build();
    }

    private static CapteurFleet fleet(List<String> ids, int readings, CapteurSettings settings) {
        return CapteurFleet.startWithClocks(ids, i -> new LimitedSource(new SimulatedTemperatures(i), readings),
                settings, i -> new AtomicLong(T)::getAndIncrement);
    }

    @Test
    @Timeout(30)
    void theTokenIsValueOneOfEveryConnectionAndTheReadingsThatFollowAreAllDelivered() throws Exception {
        String expectedFirst = Reply.authRequest(TOKEN, true).strip();
        try (var peer = new AuthPeer(TOKEN, true, id -> true, PAUSE_MILLIS);
             var fleet = fleet(List.of("serre"), 300, settings(peer.port(), TOKEN))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> peer.stored.size() >= 50);
            peer.dropAll(); // mid-run: the sensor reconnects, proves who it is again, and resends

            assertThat(fleet.awaitFinished(Duration.ofSeconds(20))).isTrue();
            var outcome = fleet.outcome();
            assertThat(outcome.exitCode()).as(outcome.toString()).isZero();
            assertThat(outcome.acknowledged()).isEqualTo(300);
            assertThat(outcome.refusal()).isNull();
            assertThat(peer.connections).hasSizeGreaterThanOrEqualTo(2)
                    .allSatisfy(lines -> assertThat(lines.get(0)).isEqualTo(expectedFirst));
            assertThat(peer.stored).hasSize(300);
            assertThat(peer.readingLines()).noneMatch(line -> line.contains("\"auth\""));
        }
    }

    @Test
    @Timeout(30)
    void aWrongTokenStopsTheWholeFleetAfterOneConnectionEachWithTheServersReason() throws Exception {
        try (var peer = new AuthPeer(TOKEN, true, id -> true, PAUSE_MILLIS);
             var fleet = fleet(CapteurFleet.ids("serre", 5), 1000, settings(peer.port(), "not-the-token"))) {

            assertThat(fleet.awaitFinished(Duration.ofSeconds(10))).isTrue();
            var outcome = fleet.outcome();
            assertThat(outcome.refusal()).isNotNull();
            assertThat(outcome.refusal().reason()).isEqualTo("unauthorized");
            assertThat(outcome.refusal().message()).contains("unknown token");
            assertThat(outcome.exitCode()).isEqualTo(1);
            assertThat(outcome.acknowledged()).isZero();
            assertThat(outcome.abandoned()).isEqualTo(outcome.produced());
            // No second attempt, even well past the backoff's longest delay (100 ms here).
            await().during(Duration.ofMillis(1000)).atMost(Duration.ofSeconds(3))
                    .until(() -> peer.connections.size() <= 5);
            assertThat(peer.stored).isEmpty();
        }
    }

    @Test
    @Timeout(30)
    void noTokenForAServerThatRequiresOneIsFinal() throws Exception {
        try (var peer = new AuthPeer(TOKEN, true, id -> true, PAUSE_MILLIS);
             var fleet = fleet(List.of("anonyme"), 100, settings(peer.port(), null))) {

            assertThat(fleet.awaitFinished(Duration.ofSeconds(10))).isTrue();
            assertThat(fleet.outcome().refusal()).isNotNull()
                    .satisfies(r -> assertThat(r.reason()).isEqualTo("auth_required"));
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                    .until(() -> peer.connections.size() == 1);
            assertThat(peer.connections.get(0).get(0)).isEqualTo(Reply.ACKS_REQUEST.strip());
        }
    }

    @Test
    @Timeout(30)
    void aCredentialRevokedMidRunStopsTheSensor() throws Exception {
        try (var peer = new AuthPeer(TOKEN, true, id -> true, PAUSE_MILLIS);
             var fleet = fleet(List.of("serre"), 100_000, settings(peer.port(), TOKEN))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> peer.stored.size() >= 20);
            peer.revokeAll();

            assertThat(fleet.awaitFinished(Duration.ofSeconds(10))).isTrue();
            assertThat(fleet.outcome().refusal()).isNotNull()
                    .satisfies(r -> assertThat(r.message()).contains("revoked", "the token was revoked"));
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2))
                    .until(() -> peer.connections.size() == 1);
        }
    }

    @Test
    @Timeout(30)
    void aForbiddenReadingIsDoneWithNotSentAgainAndTheConnectionGoesOn() throws Exception {
        try (var peer = new AuthPeer(TOKEN, true, id -> id.startsWith("serre"), PAUSE_MILLIS);
             var fleet = fleet(List.of("cave"), 20, settings(peer.port(), TOKEN))) {

            assertThat(fleet.awaitFinished(Duration.ofSeconds(10))).isTrue();
            var outcome = fleet.outcome();
            assertThat(outcome.rejected()).as(outcome.toString()).isEqualTo(20);
            assertThat(outcome.refusal()).isNull();
            assertThat(outcome.exitCode()).isEqualTo(1);
            assertThat(peer.connections).hasSize(1);
            assertThat(peer.readingLines()).hasSize(20).doesNotHaveDuplicates();
            assertThat(peer.stored).isEmpty();
        }
    }

    @Test
    @Timeout(30)
    void theCommandExits1WithTheServersMessageOnStandardError() throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("token"), "wrong-token\n");
        try (var peer = new AuthPeer(TOKEN, true, id -> true, PAUSE_MILLIS)) {
            CommandLine cl = CapteurCommand.commandLine(new CapteurCommand(InputStream.nullInputStream(), Map.of()));
            var err = new StringWriter();
            cl.setErr(new PrintWriter(err, true));
            int code = cl.execute("--server", "127.0.0.1:" + peer.port(), "--token-file", tokenFile.toString(),
                    "--id", "serre", "--sensors", "3", "--interval", "10ms", "--max-backoff", "100ms");

            assertThat(code).isEqualTo(1);
            assertThat(err.toString().lines()).containsExactly(
                    "capteur: the server refused this sensor [unauthorized]: unknown token");
            assertThat(peer.connections).hasSizeLessThanOrEqualTo(3)
                    .allSatisfy(lines -> assertThat(lines.get(0)).isEqualTo(Reply.authRequest("wrong-token", true)
                            .strip()));
        }
    }

    @Test
    @Timeout(30)
    void theTokenMayComeFromTheEnvironment() throws Exception {
        try (var peer = new AuthPeer(TOKEN, true, id -> true, PAUSE_MILLIS)) {
            CommandLine cl = CapteurCommand.commandLine(new CapteurCommand(InputStream.nullInputStream(),
                    Map.of("CAPTEUR_TOKEN", TOKEN)));
            int code = cl.execute("--server", "127.0.0.1:" + peer.port(), "--id", "serre", "--count", "5",
                    "--interval", "10ms");

            assertThat(code).isZero();
            assertThat(peer.stored).hasSize(5);
            assertThat(peer.connections.get(0).get(0)).isEqualTo(Reply.authRequest(TOKEN, true).strip());
        }
    }
}
