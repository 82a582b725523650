package fr.mesures.bench.charge;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.Validity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsWarmUpTest {

    @Test
    void aHandshakeInMemoryEstablishesASessionOnBothSides(@TempDir Path tmp) throws Exception {
        PrivatePki pki = PrivatePki.create(tmp, List.of("localhost"), Validity.fromNow(Duration.ofHours(1)),
                KeyFormat.PKCS8);
        SSLEngine client = pki.client().newEngine("localhost", 1);
        SSLEngine server = pki.server().newEngine();

        TlsWarmUp.handshake(client, server);

        assertThat(client.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
        assertThat(client.getSession().getProtocol()).isEqualTo("TLSv1.3");
        assertThat(client.getSession().getPeerPrincipal().getName()).isEqualTo("CN=localhost");
    }

    @Test
    void aWarmUpRunsItsHandshakesAndLeavesNoFileBehind() throws Exception {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Set<Path> before = warmUpFolders(tmp);

        assertThat(TlsWarmUp.run(5)).isPositive();

        assertThat(warmUpFolders(tmp)).isSubsetOf(before);
    }

    private static Set<Path> warmUpFolders(Path tmp) throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.filter(p -> p.getFileName().toString().startsWith("charge-tls-warmup"))
                    .collect(Collectors.toSet());
        }
    }
}
