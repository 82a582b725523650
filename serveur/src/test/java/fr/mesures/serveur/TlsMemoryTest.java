package fr.mesures.serveur;

import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.Validity;
import fr.mesures.serveur.ingest.InjectedFault;
import fr.mesures.serveur.memory.MemoryBudget;
import fr.mesures.serveur.network.TlsListen;
import fr.mesures.serveur.storage.Stores;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS connections at full speed against a memory budget their TLS buffers alone exceed: what the channels hold
 * is input already in memory, and reading it can only move it on, so it must never stop every connection for good.
 */
@Timeout(180)
class TlsMemoryTest {

    @TempDir
    Path dir;
    RunningServeur server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void connectionsWhoseTlsBuffersExceedTheHeldPoolAreStillReadToTheEnd() throws Exception {
        PrivatePki pki = PrivatePki.create(dir, List.of("localhost", "127.0.0.1"), Validity.fromNow(Duration.ofDays(1)),
                KeyFormat.PKCS8);
        ClientTls client = pki.client();
        Path store = dir.resolve("mesures.db");
        var settings = ServeurSettings.builder().bind("127.0.0.1").port(0).httpPort(-1).store("sqlite:" + store)
                .tls(TlsListen.of(0, pki.server(), TlsListen.DEFAULT_HANDSHAKE_TIMEOUT)).build();
        // 1 MiB for what connections hold: 100 TLS connections' record buffers (up to 33 KB each) are three times it.
        var budget = new MemoryBudget(16L << 20, 1L << 20, settings.maxMessageBytes());
        var serveur = new ServeurTCP(settings, Clock.systemUTC(),
                Stores.open(settings.store(), settings.sqlite(), 1_000_000), InjectedFault.NONE, budget);
        serveur.start();
        server = new RunningServeur(serveur, store);
        ExactlyOnce.check(server, () -> TestClient.connectTls(server.tlsPort(), client.context(), client.parameters()),
                100, 3_000);
    }
}
