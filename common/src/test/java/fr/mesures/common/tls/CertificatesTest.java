package fr.mesures.common.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;

class CertificatesTest {

    private static final CertifiedKey AUTHORITY = Certificates.authority("mesures CA", Pki.CURRENT);

    @Test
    void theAuthorityIsSelfSignedAndMaySignLeavesOnly() throws Exception {
        X509Certificate ca = AUTHORITY.leaf();

        ca.verify(ca.getPublicKey());
        assertThat(ca.getBasicConstraints()).isZero();
        assertThat(ca.getKeyUsage()[5]).as("keyCertSign").isTrue();
        assertThat(ca.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(ca.getSubjectX500Principal().getName()).isEqualTo("CN=mesures CA");
    }

    @Test
    void aServerCertificateNamesItsHostsAndAddressesAndIsSignedByTheAuthority() throws Exception {
        Instant end = Instant.now().plus(Duration.ofDays(90)).truncatedTo(ChronoUnit.SECONDS);
        CertifiedKey server = Certificates.server(AUTHORITY, List.of("localhost", "serveur", "127.0.0.1", "::1"),
                new Validity(end.minus(Duration.ofDays(91)), end), KeyType.RSA_2048);
        X509Certificate leaf = server.leaf();

        leaf.verify(AUTHORITY.leaf().getPublicKey());
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(
                List.of(2, "localhost"), List.of(2, "serveur"), List.of(7, "127.0.0.1"), List.of(7, "0:0:0:0:0:0:0:1"));
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        assertThat(leaf.getPublicKey().getAlgorithm()).isEqualTo("RSA");
        assertThat(server.validity().notAfter()).isEqualTo(end);
        assertThat(leaf.getIssuerX500Principal()).isEqualTo(AUTHORITY.leaf().getSubjectX500Principal());
    }

    @Test
    void aClientCertificateCarriesItsCommonNameForClientAuthentication() throws Exception {
        X509Certificate leaf = Certificates.client(AUTHORITY, "capteur_42", Pki.CURRENT, KeyType.EC_P256).leaf();

        leaf.verify(AUTHORITY.leaf().getPublicKey());
        assertThat(PeerIdentities.of(leaf)).contains("capteur_42");
        assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
    }

    @Test
    void refusesWhatWouldMakeAUselessCertificate() {
        assertThatThrownBy(() -> Certificates.server(AUTHORITY, List.of(), Pki.CURRENT, KeyType.EC_P256))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Certificates.client(AUTHORITY, " ", Pki.CURRENT, KeyType.EC_P256))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PemFileWriter.writePrivateKey(Path.of("unused"), AUTHORITY.privateKey(), KeyFormat.PKCS1))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("PKCS1 holds RSA keys only, not EC");
    }
}
