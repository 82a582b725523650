package fr.mesures.common.tls;

import fr.mesures.common.files.AtomicFiles;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Writes certificates and private keys as PEM files that {@link PemFiles} and OpenSSL read. Each file is replaced
 * atomically, so a server watching it for rotation never reads half a file; a key file is readable by its owner
 * only.
 */
public final class PemFileWriter {

    private PemFileWriter() {
    }

    /** The certificates in their order: for a chain, the leaf first. */
    public static void writeCertificates(Path file, List<X509Certificate> certificates) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            for (X509Certificate certificate : certificates) {
                pem.writeObject(certificate);
            }
        }
        AtomicFiles.replace(file, text.toString(), false);
    }

    /** @throws IllegalArgumentException for PKCS#1 with a key that is not RSA, or SEC1 with one that is not EC */
    public static void writePrivateKey(Path file, PrivateKey key, KeyFormat format) throws IOException {
        String required = switch (format) {
            case PKCS1 -> "RSA";
            case SEC1 -> "EC";
            case PKCS8 -> key.getAlgorithm();
        };
        if (!key.getAlgorithm().equals(required)) {
            throw new IllegalArgumentException(format + " holds " + required + " keys only, not " + key.getAlgorithm());
        }
        StringWriter text = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
            switch (format) {
                case PKCS8 -> pem.writeObject(new JcaPKCS8Generator(key, null));
                // BouncyCastle writes a bare RSA key in OpenSSL's "traditional" form, PKCS#1.
                case PKCS1 -> pem.writeObject(key);
                case SEC1 -> pem.writeObject(new PemObject("EC PRIVATE KEY", sec1(key)));
            }
        }
        AtomicFiles.replace(file, text.toString(), true);
    }

    // The JDK's PKCS#8 form of an EC key names the curve only outside the inner SEC1 structure, and leaves out the
    // public point; unwrapped as is, that structure is a key OpenSSL cannot read. Both are put back, as
    // 'openssl ec' writes them.
    private static byte[] sec1(PrivateKey key) throws IOException {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
        ASN1Encodable curve = info.getPrivateKeyAlgorithm().getParameters();
        BigInteger secret = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey()).getKey();
        X9ECParameters parameters = ECNamedCurveTable.getByOID(ASN1ObjectIdentifier.getInstance(curve));
        if (parameters == null) {
            throw new IllegalArgumentException("SEC1 is written here for named curves only, not " + curve);
        }
        byte[] point = parameters.getG().multiply(secret).normalize().getEncoded(false);
        return new org.bouncycastle.asn1.sec.ECPrivateKey(parameters.getN().bitLength(), secret,
                new DERBitString(point), curve).getEncoded();
    }
}
