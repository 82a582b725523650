package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import fr.mesures.common.tls.CertifiedKey;
import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PemFiles;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.TlsContexts;
import fr.mesures.common.tls.Validity;
import fr.mesures.protocole.ConnectionReason;
import fr.mesures.protocole.Reading;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.Reply;
import fr.mesures.serveur.auth.AuthSettings;
import fr.mesures.serveur.auth.CapteurPattern;
import fr.mesures.serveur.auth.Credential;
import fr.mesures.serveur.auth.CredentialsFile;
import fr.mesures.serveur.network.TlsListen;
import fr.mesures.serveur.reload.Reloader;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may write what: tokens and client certificates over real TLS on loopback, against a real credentials file
 * and a real SQLite store.
 */
@Timeout(120)
class AuthTest {

    private static final Validity CURRENT = Validity.fromNow(Duration.ofDays(1));
    private static final Duration DELAY = Duration.ofMillis(400);

    @TempDir
    Path dir;
    PrivatePki pki;
    ClientTls clientTls;
    Path credentialsFile;
    String salleToken;
    String everywhereToken;
    RunningServeur server;

    @BeforeEach
    void setUp() throws Exception {
        pki = PrivatePki.create(dir, List.of("localhost", "127.0.0.1"), CURRENT, KeyFormat.PKCS8);
        clientTls = pki.client();
        credentialsFile = dir.resolve("credentials");
        var file = new CredentialsFile(credentialsFile);
        salleToken = file.addToken("salle", CapteurPattern.parse("salle_*"));
        everywhereToken = file.addToken("partout", CapteurPattern.ANY);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private RunningServeur start(ClientAuth clientAuth, AuthSettings auth) throws Exception {
        TlsListen tls = TlsListen.of(0, clientAuth == ClientAuth.NONE ? pki.server() : pki.server(clientAuth),
                TlsListen.DEFAULT_HANDSHAKE_TIMEOUT);
        // Files looked at five times a second, so that the tests of re-reading wait little.
        return RunningServeur.start(dir.resolve("mesures.db"), "sqlite:",
                b -> b.tls(tls).auth(auth).reloader(new Reloader(Duration.ofMillis(200))));
    }

    private RunningServeur startWithTokens(UnaryOperator<AuthSettings> more) throws Exception {
        return start(ClientAuth.NONE, more.apply(AuthSettings.tokens(credentialsFile, true).withFailureDelay(DELAY)));
    }

    private TestClient tls() throws IOException {
        return tls(clientTls);
    }

    private TestClient tls(ClientTls client) throws IOException {
        return TestClient.connectTls(server.tlsPort(), client.context(), client.parameters());
    }

    private static String reading(String id, int i) {
        return new Reading(id, 20 + i % 10, 1_764_000_000_000L + i).toJson();
    }

    @Test
    void aTokenLetsItsConnectionWriteItsPatternAndNothingElse() throws Exception {
        server = startWithTokens(UnaryOperator.identity());
        List<Reply> replies;
        try (var client = tls()) {
            // Everything in one write: the readings pipelined behind the token wait for it, then go through.
            client.send(Reply.authRequest(salleToken, true) + reading("salle_1", 1) + reading("bureau_9", 2)
                    + reading("salle_2", 3));
            assertThat(client.next()).isEqualTo(new Reply.AuthOk());
            replies = client.finish();
        }
        assertThat(TestClient.errorsIn(replies)).singleElement().satisfies(r -> {
            Reply.Error error = (Reply.Error) r;
            assertThat(error.reason()).isEqualTo(RejectReason.FORBIDDEN.label());
            assertThat(error.index()).isEqualTo(3);
            assertThat(error.message()).isEqualTo("forbidden: capteur_id \"bureau_9\" is not allowed for credential"
                    + " \"salle\" (it may write salle_*)");
        });
        assertThat(replies).last().isEqualTo(new Reply.Ack(4));
        assertThat(server.rows("capteur_id LIKE 'salle_%'")).isEqualTo(2);
        assertThat(server.rows()).isEqualTo(2);
        assertThat(server.metric("serveur_readings_rejected_total", "reason", "forbidden")).isEqualTo(1);
        assertThat(server.metric("serveur_auth_successes_total", "method", "token")).isEqualTo(1);
    }

    @Test
    void aWrongTokenIsAnsweredAfterThePauseAndNothingOfItsConnectionIsStored() throws Exception {
        server = startWithTokens(UnaryOperator.identity());
        try (var client = tls()) {
            long start = System.nanoTime();
            client.send(Reply.authRequest("not-a-token", true) + reading("salle_1", 1));
            Reply first = client.next();
            assertThat(first).as("no ack for the refused token: it would read as accepted")
                    .isInstanceOf(Reply.Error.class);
            Reply.Error error = (Reply.Error) first;
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(DELAY);
            assertThat(error.reason()).isEqualTo(ConnectionReason.UNAUTHORIZED.label());
            assertThat(error.message()).isEqualTo("authentication failed: unknown token (wrong, or revoked)");
            assertThat(client.next()).as("closed after the error line").isNull();
        }
        assertThat(server.rows()).isZero();
        assertThat(server.metric("serveur_auth_failures_total", "reason", "unknown_token")).isEqualTo(1);
    }

    @Test
    void aConnectionThatNeverAuthenticatesIsClosedAfterTheDeadlineWhateverItSends() throws Exception {
        server = startWithTokens(UnaryOperator.identity());
        try (var client = server.connect()) {
            long start = System.nanoTime();
            // Acks requests keep it from being idle, and leave the decision to the next value: without a deadline
            // enough such clients would hold every connection the server has.
            Reply reply = null;
            client.socket().setSoTimeout(500);
            while (reply == null) {
                client.requestAcks();
                try {
                    Reply next;
                    while ((next = client.next()) instanceof Reply.Ack) {
                        // the acks of its acks requests
                    }
                    reply = next;
                } catch (java.net.SocketTimeoutException e) {
                    // nothing more yet
                }
            }
            assertThat(reply).isInstanceOf(Reply.Error.class);
            assertThat(((Reply.Error) reply).reason()).isEqualTo(ConnectionReason.AUTH_REQUIRED.label());
            assertThat(((Reply.Error) reply).message()).startsWith("no authentication within 10 s");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(AuthSettings.DEADLINE,
                    AuthSettings.DEADLINE.plusSeconds(5));
        }
        assertThat(server.metric("serveur_auth_failures_total", "reason", "missing")).isEqualTo(1);
    }

    @Test
    void aRefusedClientThatKeepsSendingIsReadUntilItsErrorLineAndNothingIsStored() throws Exception {
        // A pause long enough for the whole write to go through on a loaded machine: what is sent after it is
        // cut off by the close, as it should be.
        server = startWithTokens(auth -> auth.withFailureDelay(Duration.ofSeconds(3)));
        var readings = new StringBuilder();
        for (int i = 0; i < 400_000; i++) {
            readings.append(reading("salle_1", i));
        }
        // 20 MB behind a wrong token, more than the sockets' buffers hold (loopback's reach megabytes): a server
        // that stopped reading would leave the client blocked in its write until the close, which resets the
        // connection under the write (broken pipe) before the client reads its error line. Read and dropped, the
        // whole write goes through, then the line comes.
        for (int attempt = 0; attempt < 2; attempt++) {
            try (var client = tls()) {
                client.send(Reply.authRequest("wrong-" + attempt, false) + readings);
                assertThat(client.untilError().reason()).as("attempt %d", attempt)
                        .isEqualTo(ConnectionReason.UNAUTHORIZED.label());
            }
        }
        assertThat(server.rows()).isZero();
        assertThat(server.metric("serveur_auth_failures_total", "reason", "unknown_token")).isEqualTo(2);
    }

    @Test
    void aReadingBeforeAuthenticatingGetsOneLineAndTheConnectionClosesWhenRequired() throws Exception {
        server = startWithTokens(UnaryOperator.identity());
        try (var client = tls()) {
            client.send(reading("salle_1", 1) + Reply.authRequest(salleToken, true) + reading("salle_2", 2));
            Reply.Error error = client.untilError();
            assertThat(error.reason()).isEqualTo(ConnectionReason.AUTH_REQUIRED.label());
            assertThat(error.message()).startsWith("authentication required: send {\"auth\": \"TOKEN\"} as the first"
                    + " value");
            assertThat(client.next()).isNull();
        }
        assertThat(server.rows()).isZero();
        assertThat(server.metric("serveur_auth_failures_total", "reason", "missing")).isEqualTo(1);
    }

    @Test
    void aReadingRefusedForWantOfATokenIsNeverAcknowledged() throws Exception {
        server = startWithTokens(UnaryOperator.identity());
        List<Reply> replies = new ArrayList<>();
        try (var client = tls()) {
            client.send(Reply.ACKS_REQUEST + reading("salle_1", 1));
            for (Reply reply = client.next(); reply != null; reply = client.next()) {
                replies.add(reply);
            }
        }
        // An ack of value 2 says "stored or rejected with an error line"; the refusal names no value, so a client
        // (capteur --count 1) took the ack for stored and exited 0 with nothing stored.
        assertThat(replies).as("replies until the server closed").noneMatch(
                reply -> reply instanceof Reply.Ack ack && ack.count() >= 2);
        assertThat(TestClient.errorsIn(replies)).singleElement().satisfies(reply -> assertThat(
                ((Reply.Error) reply).reason()).isEqualTo(ConnectionReason.AUTH_REQUIRED.label()));
        assertThat(server.rows()).isZero();
    }

    @Test
    void whenNotRequiredAnonymousConnectionsWriteAnythingAndTokenOnesTheirPattern() throws Exception {
        server = start(ClientAuth.NONE, AuthSettings.tokens(credentialsFile, false));
        try (var anonymous = tls(); var salle = tls()) {
            anonymous.requestAcks().send(reading("bureau_1", 1));
            assertThat(TestClient.errorsIn(anonymous.untilAck(2))).isEmpty();
            salle.send(Reply.authRequest(salleToken, true) + reading("bureau_2", 2));
            assertThat(salle.next()).isEqualTo(new Reply.AuthOk());
            assertThat(salle.untilError().reason()).isEqualTo(RejectReason.FORBIDDEN.label());
        }
        assertThat(server.rows()).isEqualTo(1);
    }

    @Test
    void acksRequestsMayComeBeforeTheToken() throws Exception {
        server = startWithTokens(UnaryOperator.identity());
        try (var client = tls()) {
            client.send(Reply.ACKS_REQUEST + Reply.ACKS_REQUEST + Reply.authRequest(everywhereToken, false)
                    + reading("n_importe_quoi", 1));
            // Acks were asked for first: the acks of values 1 and 2 may come before or after the token's answer.
            List<Reply> replies = client.untilAck(4);
            assertThat(replies).contains(new Reply.AuthOk()).last().isEqualTo(new Reply.Ack(4));
            assertThat(TestClient.errorsIn(replies)).isEmpty();
        }
        assertThat(server.rows()).isEqualTo(1);
    }

    @Test
    void tokensAreRefusedOnThePlaintextPortUnlessAllowed() throws Exception {
        server = startWithTokens(UnaryOperator.identity());
        try (var client = server.connect()) {
            client.send(Reply.authRequest(everywhereToken, true) + reading("a", 1));
            Reply.Error error = client.untilError();
            assertThat(error.reason()).isEqualTo(ConnectionReason.UNAUTHORIZED.label());
            assertThat(error.message()).contains("not accepted on the plaintext port").contains("(port "
                    + server.tlsPort() + ")");
        }
        assertThat(server.metric("serveur_auth_failures_total", "reason", "plaintext")).isEqualTo(1);
        server.close();

        server = startWithTokens(auth -> auth.withAllowPlaintext(true));
        try (var client = server.connect()) {
            client.send(Reply.authRequest(everywhereToken, true) + reading("a", 1));
            assertThat(client.next()).isEqualTo(new Reply.AuthOk());
            assertThat(client.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
        }
        assertThat(server.rows()).isEqualTo(1);
    }

    @Test
    void failedAttemptsWaitWithoutHoldingUpAGoodClient() throws Exception {
        server = startWithTokens(auth -> auth.withFailureDelay(Duration.ofSeconds(2)));
        List<TestClient> guessers = new ArrayList<>();
        try (var good = tls()) {
            good.send(Reply.authRequest(everywhereToken, true));
            assertThat(good.next()).isEqualTo(new Reply.AuthOk());
            for (int i = 0; i < 50; i++) {
                TestClient guesser = tls();
                guessers.add(guesser);
                guesser.send(Reply.authRequest("guess-" + i, false));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> server.metric("serveur_auth_failures_total",
                    "reason", "unknown_token") == 50);
            // All fifty are waiting out their pause now; the good client's acks come as fast as ever.
            long worst = 0;
            for (int i = 1; i <= 20; i++) {
                long start = System.nanoTime();
                good.send(reading("bon", i));
                good.untilAck(i + 1);
                worst = Math.max(worst, System.nanoTime() - start);
            }
            assertThat(Duration.ofNanos(worst)).isLessThan(Duration.ofSeconds(1));
            for (TestClient guesser : guessers) {
                assertThat(guesser.untilError().reason()).isEqualTo(ConnectionReason.UNAUTHORIZED.label());
            }
        } finally {
            for (TestClient guesser : guessers) {
                guesser.close();
            }
        }
    }

    @Test
    void manyTokenConnectionsStoreEveryReadingExactlyOnce() throws Exception {
        server = startWithTokens(UnaryOperator.identity());
        int connections = 50;
        int perConnection = 500;
        ExecutorService clients = Executors.newFixedThreadPool(connections);
        try {
            List<Future<List<Reply>>> results = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                String id = "salle_" + c;
                results.add(clients.submit(() -> {
                    try (var client = tls()) {
                        var text = new StringBuilder(Reply.authRequest(salleToken, true));
                        for (int i = 0; i < perConnection; i++) {
                            text.append(reading(id, i));
                        }
                        client.send(text.toString());
                        return client.finish();
                    }
                }));
            }
            for (Future<List<Reply>> result : results) {
                assertThat(result.get()).first().isEqualTo(new Reply.AuthOk());
                assertThat(result.get()).last().isEqualTo(new Reply.Ack(perConnection + 1));
                assertThat(TestClient.errorsIn(result.get())).isEmpty();
            }
        } finally {
            clients.shutdownNow();
        }
        assertThat(server.rows()).isEqualTo((long) connections * perConnection);
        assertThat(server.metric("serveur_readings_duplicate_total")).isZero();
    }

    @Test
    void theCredentialsFileIsReadAgainRevokedConnectionsAreClosedNewTokensWork() throws Exception {
        server = startWithTokens(UnaryOperator.identity());
        var file = new CredentialsFile(credentialsFile);
        try (var salle = tls(); var partout = tls()) {
            salle.send(Reply.authRequest(salleToken, true) + reading("salle_1", 1));
            partout.send(Reply.authRequest(everywhereToken, true) + reading("ailleurs", 1));
            assertThat(salle.next()).isEqualTo(new Reply.AuthOk());
            assertThat(partout.next()).isEqualTo(new Reply.AuthOk());
            assertThat(salle.untilAck(2)).last().isEqualTo(new Reply.Ack(2));

            file.revoke("salle");
            Reply.Error revoked = salle.untilError();
            assertThat(revoked.reason()).isEqualTo(ConnectionReason.REVOKED.label());
            assertThat(revoked.message()).isEqualTo("the credential \"salle\" was revoked; closing the connection");
            assertThat(salle.next()).as("closed after the notice").isNull();

            // The other credential's connection goes on.
            partout.send(reading("ailleurs", 2));
            assertThat(partout.untilAck(3)).last().isEqualTo(new Reply.Ack(3));
        }
        try (var again = tls()) {
            again.send(Reply.authRequest(salleToken, true));
            assertThat(again.untilError().reason()).isEqualTo(ConnectionReason.UNAUTHORIZED.label());
        }
        String added = file.addToken("nouveau", CapteurPattern.parse("nouveau_*"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (var fresh = tls()) {
                fresh.send(Reply.authRequest(added, true) + reading("nouveau_1", 1));
                assertThat(fresh.next()).isEqualTo(new Reply.AuthOk());
                assertThat(fresh.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
            }
        });
        assertThat(server.metric("serveur_connections_revoked_total")).isEqualTo(1);
        assertThat(server.rows("capteur_id = 'nouveau_1'")).isEqualTo(1);
    }

    @Test
    void aBrokenCredentialsFileKeepsTheCredentialsInUse() throws Exception {
        server = startWithTokens(UnaryOperator.identity());
        java.nio.file.Files.writeString(credentialsFile, "this is not a credential\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> server.metric("serveur_reload_failures_total", "what",
                "credentials") == 1);
        try (var client = tls()) {
            client.send(Reply.authRequest(salleToken, true) + reading("salle_1", 1));
            assertThat(client.next()).isEqualTo(new Reply.AuthOk());
            assertThat(client.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
        }
    }

    // ------------------------------------------------------------------------------------------ client certificates

    @Test
    void aClientCertificateIdentifiesItsSensor() throws Exception {
        server = start(ClientAuth.REQUIRED, new AuthSettings(null, true, false, DELAY));
        List<Path> capteur7 = pki.issueClient("capteur_7", CURRENT);
        try (var client = tls(pki.client(capteur7.get(0), capteur7.get(1)))) {
            client.requestAcks().send(reading("capteur_7", 1) + reading("capteur_8", 2));
            Reply.Error error = client.untilError();
            assertThat(error.reason()).isEqualTo(RejectReason.FORBIDDEN.label());
            assertThat(error.index()).isEqualTo(3);
            assertThat(error.message()).contains("\"capteur_8\"").contains("\"capteur_7\"");
            assertThat(client.untilAck(3)).last().isEqualTo(new Reply.Ack(3));
        }
        assertThat(server.rows("capteur_id = 'capteur_7'")).isEqualTo(1);
        assertThat(server.rows()).isEqualTo(1);
        assertThat(server.metric("serveur_auth_successes_total", "method", "certificate")).isEqualTo(1);
    }

    @Test
    void theCredentialsFileMayMapACertificateToAPattern() throws Exception {
        new CredentialsFile(credentialsFile).add(new Credential("passerelle", Credential.Kind.CERTIFICATE,
                "passerelle_nord", CapteurPattern.parse("nord_*")));
        server = start(ClientAuth.REQUIRED, AuthSettings.tokens(credentialsFile, true));
        List<Path> gateway = pki.issueClient("passerelle_nord", CURRENT);
        try (var client = tls(pki.client(gateway.get(0), gateway.get(1)))) {
            client.requestAcks().send(reading("nord_1", 1) + reading("nord_2", 2));
            assertThat(TestClient.errorsIn(client.untilAck(3))).isEmpty();
        }
        assertThat(server.rows()).isEqualTo(2);
    }

    @Test
    void certificatesTheServerCannotTrustAreRefusedAndCounted() throws Exception {
        server = start(ClientAuth.REQUIRED, new AuthSettings(null, true, false, DELAY));
        Path strangerDir = dir.resolve("stranger");
        java.nio.file.Files.createDirectories(strangerDir);
        PrivatePki stranger = PrivatePki.create(strangerDir, List.of("localhost"), CURRENT, KeyFormat.PKCS8);
        List<Path> unknownCa = stranger.issueClient("capteur_7", CURRENT);
        List<Path> expired = pki.issueClient("capteur_old", new Validity(Instant.now().minus(Duration.ofDays(10)),
                Instant.now().minus(Duration.ofDays(1))));
        SSLContext[] refused = {
            TlsContexts.client(pki.authority(), null, null, false).context(),
            TlsContexts.client(pki.authority(), unknownCa.get(0), unknownCa.get(1), false).context(),
            presentingAnyway(expired),
        };
        for (SSLContext client : refused) {
            assertThatThrownBy(() -> {
                try (var c = TestClient.connectTls(server.tlsPort(), client, client.getDefaultSSLParameters())) {
                    c.requestAcks().send(reading("capteur_7", 1));
                    // TLS 1.3 finishes the client's side of the handshake before the server judges its certificate:
                    // the refusal shows on the first read.
                    c.untilAck(2);
                }
            }).isInstanceOfAny(SSLException.class, IOException.class);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(server.metric(
                "serveur_tls_handshake_failures_total", "reason", "certificate")).isEqualTo(3));
        assertThat(server.rows()).isZero();
    }

    /**
     * A client presenting a certificate this project's own loading refuses (an expired one), built with the JDK
     * alone, to see the server refuse it.
     */
    private SSLContext presentingAnyway(List<Path> certificate) throws Exception {
        CertifiedKey own = PemFiles.readCertifiedKey(certificate.get(0), certificate.get(1));
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("client", own.privateKey(), new char[0], own.chain().toArray(new X509Certificate[0]));
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, new char[0]);
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("ca", PemFiles.readCertificates(pki.authority()).get(0));
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers.getKeyManagers(), trust.getTrustManagers(), null);
        return context;
    }
}
