package fr.mesures.common.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

class PeerIdentitiesTest {

    @Test
    void theCommonNameComesFirstUnescaped() throws Exception {
        assertThat(PeerIdentities.of(certificate("CN=salle\\, 3,O=mesures", "other.example"))).contains("salle, 3");
    }

    @Test
    void withoutCommonNameTheFirstDnsNameIsTheIdentity() throws Exception {
        assertThat(PeerIdentities.of(certificate("O=mesures", "capteur-9.example", "second.example")))
                .contains("capteur-9.example");
    }

    @Test
    void withNeitherThereIsNoIdentity() throws Exception {
        assertThat(PeerIdentities.of(certificate("O=mesures"))).isEmpty();
    }

    // Certificates does not make these shapes (no CN, several CNs), so they are built here.
    private static X509Certificate certificate(String subject, String... dnsNames) throws Exception {
        KeyPair keys = KeyType.EC_P256.generate();
        Validity validity = Pki.CURRENT;
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name("CN=issuer"),
                BigInteger.ONE, Date.from(validity.notBefore()), Date.from(validity.notAfter()), new X500Name(subject),
                keys.getPublic());
        if (dnsNames.length > 0) {
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(List.of(dnsNames).stream()
                    .map(name -> new GeneralName(GeneralName.dNSName, name)).toArray(GeneralName[]::new)));
        }
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }
}
