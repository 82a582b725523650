package fr.mesures.bench.charge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.TlsContexts;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ChargeCommandLineTest {

    @Test
    void countsMayBeWrittenAsPeopleWriteThem() {
        var count = new Charge.Count();
        assertThat(count.convert("1000000")).isEqualTo(1_000_000);
        assertThat(count.convert("1_000_000")).isEqualTo(1_000_000);
        assertThat(count.convert("1,000,000")).isEqualTo(1_000_000);
        assertThat(count.convert("1M")).isEqualTo(1_000_000);
        assertThat(count.convert("200k")).isEqualTo(200_000);
        assertThatThrownBy(() -> count.convert("lots")).isInstanceOf(CommandLine.TypeConversionException.class);
    }

    @Test
    void ratesArePerSecond() {
        var rate = new Charge.RateConverter();
        assertThat(rate.convert("1/s")).isEqualTo(1.0);
        assertThat(rate.convert("500/s")).isEqualTo(500.0);
        assertThat(rate.convert("60/min")).isEqualTo(1.0);
        assertThat(rate.convert("2/ms")).isEqualTo(2000.0);
        assertThat(rate.convert("0.5")).isEqualTo(0.5);
        assertThatThrownBy(() -> rate.convert("0/s")).isInstanceOf(CommandLine.TypeConversionException.class);
        assertThatThrownBy(() -> rate.convert("1/week")).isInstanceOf(CommandLine.TypeConversionException.class);
    }

    @Test
    void aLoadWithoutAPortIsABadCommandLine() {
        assertThat(Charge.commandLine().execute("-n", "10")).isEqualTo(2);
    }

    @Test
    void aCommandThatCannotRunExitsWith3NotWithTheCodeOfAFailedResult(@TempDir Path tmp) {
        assertThat(Charge.commandLine().execute("report", tmp.resolve("missing.jsonl").toString())).isEqualTo(3);
    }

    @Test
    void aHostThatDoesNotResolveIsABadCommandLineAtOnce() {
        // .invalid never resolves (RFC 2606). Before the host was resolved up front, the drivers died on it and the
        // run waited for them for ever: hence the time limit.
        int status = assertTimeoutPreemptively(Duration.ofSeconds(30),
                () -> Charge.commandLine().execute("--host", "no-such-host.invalid", "-p", "5050", "-n", "10"));
        assertThat(status).isEqualTo(2);
    }

    @Test
    void pkiWritesCertificatesTheServerAndTheGeneratorLoad(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("pki");

        assertThat(Charge.commandLine().execute("pki", "-d", dir.toString())).isZero();

        // Both sides read them as the server's --tls-cert/--tls-key and the generator's --tls-ca.
        TlsContexts.server(dir.resolve("serveur.crt"), dir.resolve("serveur.key"), null, ClientAuth.NONE);
        TlsTarget.trusting(dir.resolve("ca.pem"), "127.0.0.1");
        X509Certificate leaf;
        try (InputStream in = Files.newInputStream(dir.resolve("serveur.crt"))) {
            leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        List<String> names = leaf.getSubjectAlternativeNames().stream().map(name -> String.valueOf(name.get(1)))
                .toList();
        assertThat(names).containsExactlyInAnyOrder("localhost", "127.0.0.1");
    }

    @Test
    void timingHandshakesWithoutTlsIsABadCommandLine() {
        assertThat(Charge.commandLine().execute("-p", "5050", "--handshakes", "-c", "10")).isEqualTo(2);
    }

    @Test
    void aMissingAuthorityFileIsABadCommandLine(@TempDir Path tmp) {
        assertThat(Charge.commandLine().execute("-p", "5050", "--tls-ca", tmp.resolve("none.pem").toString()))
                .isEqualTo(2);
    }
}
