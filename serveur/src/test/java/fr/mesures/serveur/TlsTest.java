package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.ServerTls;
import fr.mesures.common.tls.Validity;
import fr.mesures.protocole.Reading;
import fr.mesures.protocole.Reply;
import fr.mesures.serveur.network.TlsListen;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sensor port over TLS, end to end: certificates made here, a real TLS listener in the selector loop, JDK TLS
 * clients and hostile ones over loopback, a real SQLite file.
 */
@Timeout(120)
class TlsTest {

    private static final Validity CURRENT = Validity.fromNow(Duration.ofDays(1));
    /** Short, for the stalled handshake; the other tests keep the default, as 100 handshakes at once may take long. */
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);

    @TempDir
    Path dir;
    RunningServeur server;
    ServerTls serverTls;
    ClientTls clientTls;

    @BeforeEach
    void certificates() throws Exception {
        PrivatePki pki = PrivatePki.create(dir, List.of("localhost", "127.0.0.1"), CURRENT, KeyFormat.PKCS8);
        serverTls = pki.server();
        clientTls = pki.client();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private RunningServeur start(UnaryOperator<ServeurSettings.Builder> more) throws Exception {
        return start(TlsListen.DEFAULT_HANDSHAKE_TIMEOUT, more);
    }

    private RunningServeur start(Duration handshakeTimeout, UnaryOperator<ServeurSettings.Builder> more)
            throws Exception {
        TlsListen tls = TlsListen.of(0, serverTls, handshakeTimeout);
        return RunningServeur.start(dir.resolve("mesures.db"), "sqlite:", b -> more.apply(b.tls(tls)));
    }

    private TestClient connectTls() throws IOException {
        return TestClient.connectTls(server.tlsPort(), clientTls.context(), clientTls.parameters());
    }

    private static String reading(String id, double temperature, long timestamp) {
        return new Reading(id, temperature, timestamp).toJson();
    }

    @Test
    void hundredTlsConnectionsOfAThousandReadingsEachAreStoredExactlyOnce() throws Exception {
        server = start(UnaryOperator.identity());
        ExactlyOnce.check(server, this::connectTls, 100, 1_000);
        assertThat(server.metric("serveur_connections_total", "transport", "tls")).isEqualTo(100);
        assertThat(server.metric("serveur_connections_total", "transport", "tcp")).isZero();
        assertThat(server.metric("serveur_tls_handshakes_total")).isEqualTo(100);
    }

    @Test
    void bothListenersFeedOnePipelineAndThePlaintextOneCanBeTurnedOff() throws Exception {
        server = start(UnaryOperator.identity());
        try (var plain = server.connect(); var tls = connectTls()) {
            plain.requestAcks().send(reading("en_clair", 1, 1));
            tls.requestAcks().send(reading("chiffre", 2, 2));
            assertThat(plain.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
            assertThat(tls.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
        }
        assertThat(server.rows()).isEqualTo(2);
        server.close();

        server = start(b -> b.port(-1));
        assertThat(server.port()).isEqualTo(-1);
        try (var tls = connectTls()) {
            tls.requestAcks().send(reading("seul", 3, 3));
            assertThat(tls.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
        }
    }

    /** A hostile or broken client of the TLS port, and the reason its failure is counted under. */
    private record Attack(String name, String reason, Attacker attacker) {
    }

    @FunctionalInterface
    private interface Attacker {
        void run(int port) throws Exception;
    }

    @Test
    void badTlsClientsAreClosedAndCountedWhileAGoodOneKeepsItsLatency() throws Exception {
        server = start(HANDSHAKE_TIMEOUT, UnaryOperator.identity());
        List<Attack> attacks = List.of(
                new Attack("plaintext JSON on the TLS port", "not_tls", port -> {
                    try (Socket s = raw(port)) {
                        s.getOutputStream().write((reading("en_clair", 1, 1) + "\n").getBytes(StandardCharsets.UTF_8));
                        assertThat(drain(s.getInputStream())).as("bytes before the close").isLessThan(100);
                    }
                }),
                new Attack("garbage instead of a ClientHello", "not_tls", port -> {
                    try (Socket s = raw(port)) {
                        byte[] garbage = new byte[4096];
                        new java.util.Random(7).nextBytes(garbage);
                        garbage[0] = 'G';
                        s.getOutputStream().write(garbage);
                        drain(s.getInputStream());
                    }
                }),
                new Attack("a handshake that stalls after one byte", "timeout", port -> {
                    try (Socket s = raw(port)) {
                        s.getOutputStream().write(22);
                        long start = System.nanoTime();
                        drain(s.getInputStream());
                        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("closed after the timeout")
                                .isGreaterThanOrEqualTo(HANDSHAKE_TIMEOUT.minusMillis(300));
                    }
                }),
                new Attack("openssl s_client offering only TLS 1.1", "protocol", port -> {
                    // SECLEVEL=0: OpenSSL 3 would otherwise refuse to offer TLS 1.1 at all.
                    Process openssl = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                            "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0").redirectErrorStream(true).start();
                    openssl.getOutputStream().close();
                    String said = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertThat(openssl.waitFor(10, TimeUnit.SECONDS)).isTrue();
                    assertThat(openssl.exitValue()).as(said).isNotZero();
                    assertThat(said).containsIgnoringCase("protocol version");
                }),
                new Attack("a client that closes mid-handshake", "closed", port -> {
                    try (Socket s = raw(port)) {
                        s.getOutputStream().write(new byte[] {22, 3, 1, 0, (byte) 200, 1, 0, 0});
                        s.shutdownOutput();
                        drain(s.getInputStream());
                    }
                }));

        AtomicBoolean attacking = new AtomicBoolean(true);
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Long> good = pool.submit(() -> wellBehaved(attacking, latencies));
            for (Attack attack : attacks) {
                double before = server.metric("serveur_tls_handshake_failures_total", "reason", attack.reason());
                attack.attacker().run(server.tlsPort());
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                        server.metric("serveur_tls_handshake_failures_total", "reason", attack.reason()))
                        .as(attack.name()).isEqualTo(before + 1));
            }
            attackAtOnce(300);
            attacking.set(false);
            long sent = good.get(30, TimeUnit.SECONDS);
            assertThat(server.rows("capteur_id = 'bon'")).isEqualTo(sent);
        } finally {
            attacking.set(false);
            pool.shutdownNow();
        }
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        long p99 = sorted.get((int) (sorted.size() * 0.99));
        System.out.printf("TLS attacks: well-behaved client %d readings, p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                sorted.size(), sorted.get(sorted.size() / 2) / 1e6, p99 / 1e6, sorted.get(sorted.size() - 1) / 1e6);
        assertThat(p99).as("p99 ack latency of the well-behaved client (ns)").isLessThan(1_000_000_000L);
        // Every connection, the attackers' and the good client's, is closed once the server sees each end.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(server.metric("serveur_connections_active")).isZero());
    }

    @Test
    void handshakesStalledAfterOneByteDoNotKeepANewClientWaiting() throws Exception {
        server = start(UnaryOperator.identity());
        List<Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                Socket s = raw(server.tlsPort());
                s.getOutputStream().write(0x16); // the first byte of a handshake record, and nothing more
                stalled.add(s);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.metric("serveur_connections_active") >= 300);
            // A cap on accepted handshakes once kept this client in the accept queue until the stalled ones timed
            // out (9.75 s); it must be served as if they were not there.
            long start = System.nanoTime();
            try (var client = connectTls()) {
                client.requestAcks().send(reading("nouveau", 1, 1));
                assertThat(client.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        } finally {
            for (Socket s : stalled) {
                s.close();
            }
        }
    }

    /** {@code count} handshakes at once, each sending one reading, while the good client keeps sending. */
    private void attackAtOnce(int count) throws Exception {
        ExecutorService many = Executors.newFixedThreadPool(50);
        try {
            List<Future<List<Reply>>> done = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String id = "foule_" + i;
                done.add(many.submit(() -> {
                    try (var c = connectTls()) {
                        return c.requestAcks().send(reading(id, 1, 1)).finish();
                    }
                }));
            }
            for (Future<List<Reply>> f : done) {
                assertThat(f.get()).last().isEqualTo(new Reply.Ack(2));
            }
        } finally {
            many.shutdownNow();
        }
        assertThat(server.rows("capteur_id LIKE 'foule_%'")).isEqualTo(count);
    }

    /** One reading every 10 ms, each waited for; returns how many were acknowledged. */
    private long wellBehaved(AtomicBoolean attacking, List<Long> latencies) throws Exception {
        try (var client = connectTls()) {
            client.requestAcks();
            long n = 0;
            while (attacking.get()) {
                long start = System.nanoTime();
                client.send(reading("bon", 20, 1_764_000_000_000L + n));
                n++;
                client.untilAck(n + 1);
                latencies.add(System.nanoTime() - start);
                Thread.sleep(10);
            }
            return n;
        }
    }

    private static Socket raw(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Reads until the server closes; returns how many bytes came. */
    private static int drain(InputStream in) {
        int total = 0;
        try {
            byte[] buffer = new byte[4096];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                total += n;
            }
        } catch (IOException e) {
            // reset by the server: closed too
        }
        return total;
    }
}
