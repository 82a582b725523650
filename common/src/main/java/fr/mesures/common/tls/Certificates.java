package fr.mesures.common.tls;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;

/**
 * Makes a private certificate authority and the server and client certificates it signs: for the one-shot
 * service that sets up TLS in docker compose, and for tests that need real certificates (expired ones included).
 * The authority's key is EC P-256; a leaf's key is of the type asked for.
 */
public final class Certificates {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Certificates() {
    }

    /** A self-signed authority that may sign leaf certificates only (path length 0). */
    public static CertifiedKey authority(String commonName, Validity validity) {
        KeyPair keys = KeyType.EC_P256.generate();
        X500Name name = commonName(commonName);
        try {
            X509v3CertificateBuilder builder = builder(name, name, validity, keys.getPublic());
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keys.getPublic()));
            return new CertifiedKey(List.of(sign(builder, keys.getPrivate())), keys.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot make the authority " + commonName, e);
        }
    }

    /**
     * A server certificate for the given host names and IP addresses ({@code localhost}, {@code 127.0.0.1},
     * {@code ::1}), all as subject alternative names, the first also as the common name.
     */
    public static CertifiedKey server(CertifiedKey issuer, List<String> names, Validity validity, KeyType keyType) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("a server certificate needs at least one host name or IP address");
        }
        GeneralName[] alternatives = names.stream()
                .map(name -> new GeneralName(IPAddress.isValid(name) ? GeneralName.iPAddress : GeneralName.dNSName, name))
                .toArray(GeneralName[]::new);
        return leaf(issuer, names.get(0), validity, keyType, KeyPurposeId.id_kp_serverAuth, new GeneralNames(alternatives));
    }

    /** A client certificate whose common name is the identity the server will read ({@link PeerIdentities}). */
    public static CertifiedKey client(CertifiedKey issuer, String commonName, Validity validity, KeyType keyType) {
        return leaf(issuer, commonName, validity, keyType, KeyPurposeId.id_kp_clientAuth, null);
    }

    private static CertifiedKey leaf(CertifiedKey issuer, String commonName, Validity validity, KeyType keyType,
            KeyPurposeId purpose, GeneralNames alternatives) {
        KeyPair keys = keyType.generate();
        X509Certificate authority = issuer.leaf();
        try {
            X509v3CertificateBuilder builder = builder(X500Name.getInstance(
                    authority.getSubjectX500Principal().getEncoded()), commonName(commonName), validity, keys.getPublic());
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            // Key encipherment too for RSA: TLS 1.2 peers that still negotiate RSA key transport check for it.
            int usage = KeyUsage.digitalSignature | (keyType == KeyType.RSA_2048 ? KeyUsage.keyEncipherment : 0);
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(usage))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            extensions.createAuthorityKeyIdentifier(authority));
            if (alternatives != null) {
                builder.addExtension(Extension.subjectAlternativeName, false, alternatives);
            }
            return new CertifiedKey(List.of(sign(builder, issuer.privateKey())), keys.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot make the certificate " + commonName, e);
        }
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, Validity validity,
            PublicKey key) {
        // 159 random bits: positive, at most 20 bytes (RFC 5280), and unguessable as CA/Browser rules ask.
        BigInteger serial = new BigInteger(159, RANDOM);
        return new JcaX509v3CertificateBuilder(issuer, serial, Date.from(validity.notBefore()),
                Date.from(validity.notAfter()), subject, key);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
            throws GeneralSecurityException {
        String algorithm = signer.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(algorithm).build(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static X500Name commonName(String commonName) {
        if (commonName == null || commonName.isBlank()) {
            throw new IllegalArgumentException("a certificate needs a common name");
        }
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
    }
}
