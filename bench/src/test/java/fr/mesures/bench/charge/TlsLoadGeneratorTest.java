package fr.mesures.bench.charge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.Validity;
import fr.mesures.serveur.ServeurSettings;
import fr.mesures.serveur.ServeurTCP;
import fr.mesures.serveur.network.TlsListen;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load generator over TLS against a real server with a TLS listener, started in-process on an ephemeral port,
 * with certificates made here: readings at full speed and at a fixed rate, handshakes alone, refusals and an
 * untrusted certificate.
 */
@Timeout(120)
class TlsLoadGeneratorTest {

    private static final Validity CURRENT = Validity.fromNow(Duration.ofDays(1));

    @TempDir
    Path tmp;

    private PrivatePki pki;
    private ServeurTCP serveur;
    private Path db;

    @BeforeEach
    void certificates() throws Exception {
        Files.createDirectories(tmp.resolve("pki"));
        pki = PrivatePki.create(tmp.resolve("pki"), List.of("localhost", "127.0.0.1"), CURRENT, KeyFormat.PKCS8);
    }

    @AfterEach
    void stop() {
        if (serveur != null) {
            serveur.close();
        }
    }

    /** A server with its TLS listener only (the plaintext one off, as bench/run.sh starts it). */
    private void start(UnaryOperator<ServeurSettings.Builder> more) throws Exception {
        db = tmp.resolve("mesures.db");
        // The default handshake timeout: handshakes at once on a busy shared machine may take seconds.
        TlsListen tls = TlsListen.of(0, pki.server(), TlsListen.DEFAULT_HANDSHAKE_TIMEOUT);
        serveur = new ServeurTCP(more.apply(ServeurSettings.builder().bind("127.0.0.1").port(-1).httpPort(-1)
                .store("sqlite:" + db).tls(tls)).build());
        serveur.start();
    }

    private LoadOptions load(Workload w, double rate, Duration warmup, int inFlight, TlsTarget tls,
            boolean handshakesOnly) {
        return new LoadOptions("127.0.0.1", serveur.tlsPort(), w, rate, true, false, 1, inFlight,
                Duration.ofSeconds(90), warmup, false, tls, handshakesOnly);
    }

    private TlsTarget trusted() throws Exception {
        return TlsTarget.trusting(pki.authority(), "127.0.0.1");
    }

    @Test
    void everyReadingOverTlsIsAckedAndStoredAndEachConnectionTimesItsHandshake() throws Exception {
        start(UnaryOperator.identity());
        Workload w = new Workload(20_000, 20, 100, Workload.DEFAULT_BASE_MILLIS);

        LoadResult r = new LoadGenerator(load(w, 0, Duration.ZERO, 64, trusted(), false)).run();

        assertThat(r.errors().samples()).isEmpty();
        assertThat(r.ok()).isTrue();
        assertThat(r.ackedReadings()).isEqualTo(20_000);
        assertThat(r.latencies().getTotalCount()).isEqualTo(20_000);
        assertThat(r.held()).isEqualTo(20);
        assertThat(r.setup().handshakes().getTotalCount()).isEqualTo(20);
        assertThat(r.setup().setups().getMinValue()).isGreaterThanOrEqualTo(r.setup().handshakes().getMinValue());
        assertThat(r.toJson()).contains("\"mode\":\"acks\"", "\"tls\":true", "\"acked_readings\":20000",
                "\"tls_handshake_ms\":{\"count\":20");
        assertThat(rows()).isEqualTo(20_000);
    }

    @Test
    void atAFixedRateOverTlsEachReadingIsAckedAndTheWarmUpIsNotMeasured() throws Exception {
        start(UnaryOperator.identity());
        // As in plaintext: 10 connections, 4 readings each at 20/s, a 50 ms warm-up, so exactly 30 are measured.
        Workload w = new Workload(40, 10, 10, Workload.DEFAULT_BASE_MILLIS);

        LoadResult r = new LoadGenerator(load(w, 20, Duration.ofMillis(50), 64, trusted(), false)).run();

        assertThat(r.errors().samples()).isEmpty();
        assertThat(r.ok()).isTrue();
        assertThat(r.ackedReadings()).isEqualTo(40);
        assertThat(r.latencies().getTotalCount()).isEqualTo(30);
        assertThat(rows()).isEqualTo(40);
    }

    @Test
    void handshakesAloneAreAllDoneAndTimedAndNoReadingIsSent() throws Exception {
        start(UnaryOperator.identity());
        Workload w = new Workload(0, 30, 30, Workload.DEFAULT_BASE_MILLIS);

        LoadResult r = new LoadGenerator(load(w, 0, Duration.ZERO, 30, trusted(), true)).run();

        assertThat(r.errors().samples()).isEmpty();
        assertThat(r.ok()).isTrue();
        assertThat(r.connected()).isEqualTo(30);
        assertThat(r.setup().tcpConnected()).isEqualTo(30);
        assertThat(r.setup().handshakes().getTotalCount()).isEqualTo(30);
        assertThat(r.setup().lastReadySeconds()).isPositive().isLessThanOrEqualTo(r.connectSeconds());
        assertThat(r.toJson()).contains("\"mode\":\"handshakes\"", "\"connected\":30");
        assertThat(r.toHuman()).startsWith("OK: 30 TLS connections, at most 30 connecting at once: 30 handshakes");
        assertThat(rows()).isZero();
    }

    @Test
    void connectionsTheServerClosesDuringTheirHandshakeAreCountedAsClosed() throws Exception {
        // At its limit the server accepts a TLS connection and closes it at once, without a word: the client sees
        // its handshake cut.
        start(b -> b.maxConnections(3));
        Workload w = new Workload(0, 6, 6, Workload.DEFAULT_BASE_MILLIS);

        LoadResult r = new LoadGenerator(load(w, 0, Duration.ZERO, 1, trusted(), true)).run();

        assertThat(r.ok()).isFalse();
        assertThat(r.connected()).isEqualTo(3);
        assertThat(r.setup().tcpConnected()).isEqualTo(6);
        assertThat(r.errors().counts()).containsExactly(java.util.Map.entry("tls_closed", 3L));
        assertThat(r.toHuman()).startsWith("FAILED").contains("errors by kind: {tls_closed=3}");
    }

    @Test
    void aServerCertificateFromAnotherAuthorityFailsEveryHandshake() throws Exception {
        start(UnaryOperator.identity());
        Path other = Files.createDirectories(tmp.resolve("other"));
        PrivatePki stranger = PrivatePki.create(other, List.of("127.0.0.1"), CURRENT, KeyFormat.PKCS8);
        Workload w = new Workload(100, 4, 4, Workload.DEFAULT_BASE_MILLIS);

        LoadResult r = new LoadGenerator(load(w, 0, Duration.ZERO, 64,
                TlsTarget.trusting(stranger.authority(), "127.0.0.1"), false)).run();

        assertThat(r.ok()).isFalse();
        assertThat(r.connected()).isZero();
        assertThat(r.setup().tcpConnected()).isEqualTo(4);
        assertThat(r.errors().counts()).containsExactly(java.util.Map.entry("tls_failed", 4L));
        assertThat(rows()).isZero();
    }

    @Test
    void tlsRefusesWhatItCannotDo() throws Exception {
        TlsTarget tls = trusted();
        Workload w = new Workload(10, 1, 1, Workload.DEFAULT_BASE_MILLIS);
        Duration t = Duration.ofSeconds(1);

        assertThatThrownBy(() -> new LoadOptions("127.0.0.1", 1, w, 0, false, true, 1, 1, t, Duration.ZERO, false,
                tls, false)).hasMessage("a sink is raw TCP: it cannot take TLS");
        assertThatThrownBy(() -> new LoadOptions("127.0.0.1", 1, w, 0, false, false, 1, 1, t, Duration.ZERO, false,
                tls, false)).hasMessage("fire-and-forget does not work over TLS: use acks");
        assertThatThrownBy(() -> new LoadOptions("127.0.0.1", 1, w, 0, true, false, 1, 1, t, Duration.ZERO, false,
                null, true)).hasMessage("timing handshakes needs TLS (--tls-ca)");
    }

    private long rows() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM mesures")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
