package fr.mesures.bench.charge;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.Validity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsTargetTest {

    @Test
    void eachConnectionHasItsOwnSessionKeySoNoneResumesAnother(@TempDir Path tmp) throws Exception {
        PrivatePki pki = PrivatePki.create(tmp, List.of("127.0.0.1"), Validity.fromNow(Duration.ofDays(1)),
                KeyFormat.PKCS8);
        TlsTarget target = TlsTarget.trusting(pki.authority(), "127.0.0.1");

        // The JDK's client session cache is keyed by the engine's peer host and port.
        List<SSLEngine> engines = IntStream.range(0, 1_000).mapToObj(target::newEngine).toList();

        assertThat(engines).extracting(SSLEngine::getPeerPort).doesNotHaveDuplicates();
        assertThat(engines).allSatisfy(e -> {
            assertThat(e.getPeerHost()).isEqualTo("127.0.0.1");
            assertThat(e.getUseClientMode()).isTrue();
            // The server's certificate must name the host, as a sensor checks it.
            assertThat(e.getSSLParameters().getEndpointIdentificationAlgorithm()).isEqualTo("HTTPS");
        });
    }
}
