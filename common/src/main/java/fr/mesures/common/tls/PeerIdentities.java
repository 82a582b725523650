package fr.mesures.common.tls;

import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * Who is at the other end of a TLS session, from the certificate it presented: its subject's common name (the
 * first one, as Mosquitto's {@code use_identity_as_username} reads it), else its first DNS subject alternative name.
 */
public final class PeerIdentities {

    private static final int DNS_NAME = 2; // GeneralName tag of dNSName (RFC 5280)

    private PeerIdentities() {
    }

    /** Empty when the peer sent no certificate (client authentication none or optional). */
    public static Optional<String> of(SSLSession session) {
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
        return chain.length > 0 && chain[0] instanceof X509Certificate leaf ? of(leaf) : Optional.empty();
    }

    public static Optional<String> of(X509Certificate certificate) {
        X500Name subject = X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
        for (RDN rdn : subject.getRDNs(BCStyle.CN)) {
            for (AttributeTypeAndValue attribute : rdn.getTypesAndValues()) {
                if (attribute.getType().equals(BCStyle.CN)) {
                    String name = text(attribute.getValue());
                    if (!name.isBlank()) {
                        return Optional.of(name);
                    }
                }
            }
        }
        return firstDnsName(certificate);
    }

    private static Optional<String> firstDnsName(X509Certificate certificate) {
        Collection<List<?>> names;
        try {
            names = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return Optional.empty(); // a damaged extension names nobody
        }
        if (names == null) {
            return Optional.empty();
        }
        return names.stream()
                .filter(name -> name.get(0) instanceof Integer tag && tag == DNS_NAME)
                .map(name -> (String) name.get(1))
                .findFirst();
    }

    // The plain string, not IETFUtils' escaped form: "a,b" must not come out as "a\,b".
    private static String text(ASN1Encodable value) {
        return value instanceof ASN1String string ? string.getString() : IETFUtils.valueToString(value);
    }
}
