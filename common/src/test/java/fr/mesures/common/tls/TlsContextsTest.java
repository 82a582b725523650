package fr.mesures.common.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.common.tls.TlsFileException.Problem;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsContextsTest {

    @TempDir
    Path directory;

    private CertifiedKey authority;
    private Path authorityFile;

    @BeforeEach
    void makeAuthority() throws IOException {
        authority = Certificates.authority("test CA", Pki.CURRENT);
        authorityFile = Pki.writeAuthority(directory, "test", authority);
    }

    @Test
    void anExpiredServerCertificateIsRefusedWithItsDate() throws IOException {
        Instant now = Instant.now();
        Pki.Files expired = serverValid(new Validity(now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1))));

        assertThatThrownBy(() -> TlsContexts.server(expired.certificate(), expired.key(), null, ClientAuth.NONE))
                .isInstanceOfSatisfying(TlsFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.EXPIRED))
                .hasMessageStartingWith(expired.certificate() + ": the certificate CN=localhost expired at ")
                .hasMessageContaining("renew it");
    }

    @Test
    void aServerCertificateNotYetValidIsRefusedWithAHintAboutTheClock() throws IOException {
        Instant now = Instant.now();
        Pki.Files future = serverValid(new Validity(now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(30))));

        assertThatThrownBy(() -> TlsContexts.server(future.certificate(), future.key(), null, ClientAuth.NONE))
                .isInstanceOfSatisfying(TlsFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.NOT_YET_VALID))
                .hasMessageContaining("clock");
    }

    @Test
    void anExpiredClientCertificateIsRefusedBeforeAnyConnection() throws IOException {
        Instant now = Instant.now();
        Pki.Files expired = Pki.write(directory, "client", Certificates.client(authority, "capteur_1",
                new Validity(now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1))), KeyType.EC_P256),
                KeyFormat.PKCS8);

        assertThatThrownBy(() -> TlsContexts.client(authorityFile, expired.certificate(), expired.key(), false))
                .isInstanceOfSatisfying(TlsFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.EXPIRED));
    }

    @Test
    void clientAuthenticationAndTheClientCaGoTogether() throws IOException {
        Pki.Files server = Pki.localhostServer(directory, authority);

        assertThatThrownBy(() -> TlsContexts.server(server.certificate(), server.key(), null, ClientAuth.REQUIRED))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a client CA file");
        assertThatThrownBy(() -> TlsContexts.server(server.certificate(), server.key(), authorityFile, ClientAuth.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("choose 'optional' or 'required'");
        assertThatThrownBy(() -> TlsContexts.client(authorityFile, server.certificate(), null, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("give both files or neither");
    }

    @Test
    void aMissingClientCaFileIsNamed() throws IOException {
        Pki.Files server = Pki.localhostServer(directory, authority);
        Path missing = directory.resolve("nope.pem");

        assertThatThrownBy(() -> TlsContexts.server(server.certificate(), server.key(), missing, ClientAuth.REQUIRED))
                .isInstanceOfSatisfying(TlsFileException.class, e -> assertThat(e.file()).isEqualTo(missing));
    }

    @Test
    void enginesApplyThePolicyAndTheClientAuthenticationMode() throws IOException {
        Pki.Files server = Pki.localhostServer(directory, authority);

        SSLEngine required = TlsContexts.server(server.certificate(), server.key(), authorityFile, ClientAuth.REQUIRED)
                .newEngine();
        SSLEngine optional = TlsContexts.server(server.certificate(), server.key(), authorityFile, ClientAuth.OPTIONAL)
                .newEngine();
        SSLEngine client = TlsContexts.client(authorityFile, null, null, false).newEngine("localhost", 5443);

        assertThat(required.getUseClientMode()).isFalse();
        assertThat(required.getNeedClientAuth()).isTrue();
        assertThat(optional.getWantClientAuth()).isTrue();
        assertThat(optional.getNeedClientAuth()).isFalse();
        assertThat(required.getEnabledProtocols()).containsExactlyInAnyOrder("TLSv1.3", "TLSv1.2");
        assertThat(required.getEnabledCipherSuites()).allMatch(TlsPolicy::allowed).contains("TLS_AES_128_GCM_SHA256");
        assertThat(client.getUseClientMode()).isTrue();
        assertThat(client.getSSLParameters().getEndpointIdentificationAlgorithm()).isEqualTo("HTTPS");
        assertThat(TlsContexts.client(null, null, null, true).parameters().getEndpointIdentificationAlgorithm()).isNull();
    }

    @Test
    void clientAuthWordsAreParsed() {
        assertThat(ClientAuth.parse(" Required ")).isEqualTo(ClientAuth.REQUIRED);
        assertThat(ClientAuth.OPTIONAL).hasToString("optional");
        assertThatThrownBy(() -> ClientAuth.parse("yes")).hasMessage("'yes' is not a client authentication mode"
                + " (none, optional or required)");
    }

    private Pki.Files serverValid(Validity validity) throws IOException {
        return Pki.write(directory, "server",
                Certificates.server(authority, List.of("localhost"), validity, KeyType.EC_P256), KeyFormat.PKCS8);
    }
}
