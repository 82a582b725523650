package fr.mesures.common.tls;

import fr.mesures.common.tls.TlsFileException.Problem;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.X509TrustedCertificateBlock;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads certificates and private keys from PEM files in the forms operators have: a certificate chain (leaf
 * first), and a key in PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or SEC1
 * ({@code BEGIN EC PRIVATE KEY}) form; every refusal is a {@link TlsFileException} naming the file. Dates are not
 * checked here: whether an expired certificate may be used is the caller's decision ({@link TlsContexts} refuses).
 */
public final class PemFiles {

    private PemFiles() {
    }

    /** The certificates of a file in their order; for a chain, the leaf first. */
    public static List<X509Certificate> readCertificates(Path file) throws TlsFileException {
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        List<X509Certificate> certificates = new ArrayList<>();
        for (Object object : readObjects(file)) {
            X509CertificateHolder holder = object instanceof X509TrustedCertificateBlock trusted
                    ? trusted.getCertificateHolder()
                    : object instanceof X509CertificateHolder plain ? plain : null;
            if (holder == null) {
                // A key or parameters beside the certificates: a combined PEM file is common and harmless here.
                continue;
            }
            try {
                certificates.add(converter.getCertificate(holder));
            } catch (CertificateException e) {
                throw new TlsFileException(file, Problem.NOT_PEM,
                        "certificate number " + (certificates.size() + 1) + " cannot be decoded: " + e.getMessage(), e);
            }
        }
        if (certificates.isEmpty()) {
            throw new TlsFileException(file, Problem.NO_CERTIFICATE,
                    "no certificate in this file (expected -----BEGIN CERTIFICATE-----)");
        }
        return List.copyOf(certificates);
    }

    /** The one private key of a file; certificates and EC parameters beside it are skipped. */
    public static PrivateKey readPrivateKey(Path file) throws TlsFileException {
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        List<PrivateKey> keys = new ArrayList<>();
        for (Object object : readObjects(file)) {
            try {
                if (object instanceof PrivateKeyInfo pkcs8) {
                    keys.add(converter.getPrivateKey(pkcs8));
                } else if (object instanceof PEMKeyPair traditional) {
                    // Only the private part: SEC1 makes the public key optional, and some tools leave it out.
                    keys.add(converter.getPrivateKey(traditional.getPrivateKeyInfo()));
                } else if (object instanceof PEMEncryptedKeyPair || object instanceof PKCS8EncryptedPrivateKeyInfo) {
                    // A server started by an init system has nobody to type a passphrase.
                    throw new TlsFileException(file, Problem.ENCRYPTED_KEY, "the private key is encrypted, and no"
                            + " passphrase can be asked for; decrypt it once with 'openssl pkey -in " + file
                            + " -out plain-key.pem' and protect that file with its permissions instead");
                }
            } catch (IOException e) {
                if (e instanceof TlsFileException known) {
                    throw known;
                }
                throw new TlsFileException(file, Problem.UNSUPPORTED_KEY,
                        "the private key cannot be used: " + e.getMessage(), e);
            }
        }
        if (keys.isEmpty()) {
            throw new TlsFileException(file, Problem.NO_PRIVATE_KEY, "no private key in this file (expected"
                    + " -----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)");
        }
        if (keys.size() > 1) {
            throw new TlsFileException(file, Problem.TOO_MANY_KEYS,
                    keys.size() + " private keys in this file; it must hold exactly one");
        }
        return keys.get(0);
    }

    /**
     * A certificate chain and its key, checked to belong together: the key must sign what the leaf's public key
     * verifies, so a key from the previous renewal is refused here rather than in every handshake.
     */
    public static CertifiedKey readCertifiedKey(Path certificateFile, Path keyFile) throws TlsFileException {
        List<X509Certificate> chain = readCertificates(certificateFile);
        PrivateKey key = readPrivateKey(keyFile);
        if (matches(key, chain.get(0).getPublicKey())) {
            return new CertifiedKey(chain, key);
        }
        for (int i = 1; i < chain.size(); i++) {
            if (matches(key, chain.get(i).getPublicKey())) {
                throw new TlsFileException(certificateFile, Problem.KEY_MISMATCH, "the key of " + keyFile
                        + " belongs to certificate number " + (i + 1) + " of this file; the certificate of the key"
                        + " (the leaf) must come first, then the chain");
            }
        }
        throw new TlsFileException(certificateFile, Problem.KEY_MISMATCH, "the private key in " + keyFile
                + " does not belong to this certificate (" + chain.get(0).getSubjectX500Principal().getName()
                + "); are the two files from the same issuance?");
    }

    // Signing a random text and verifying it works for every key type, where comparing key fields would need
    // code for each (an EC private key does not even hold its public point in every form).
    private static boolean matches(PrivateKey key, PublicKey publicKey) {
        if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
            return false;
        }
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "DSA" -> "SHA256withDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448 and EdDSA sign under their own name
        };
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static List<Object> readObjects(Path file) throws TlsFileException {
        String text = readText(file);
        if (text.isBlank()) {
            throw new TlsFileException(file, Problem.EMPTY, "the file is empty");
        }
        if (!text.contains("-----BEGIN ")) {
            throw new TlsFileException(file, Problem.NOT_PEM, "not a PEM file (no -----BEGIN line); a DER file"
                    + " can be converted with 'openssl x509 -inform der' or 'openssl pkey -inform der'");
        }
        List<Object> objects = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            for (Object object = parser.readObject(); object != null; object = parser.readObject()) {
                objects.add(object);
            }
        } catch (IOException | RuntimeException e) {
            // BouncyCastle reports damaged base64 or DER as IOExceptions and, for some DER, runtime exceptions.
            throw new TlsFileException(file, Problem.NOT_PEM, "damaged PEM content: " + e.getMessage(), e);
        }
        return objects;
    }

    private static String readText(Path file) throws TlsFileException {
        if (Files.isDirectory(file)) {
            throw new TlsFileException(file, Problem.UNREADABLE, "is a directory, not a PEM file");
        }
        try {
            // Latin-1 maps every byte, so a binary file reaches the "not a PEM file" message instead of a charset error.
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new TlsFileException(file, Problem.MISSING, "no such file", e);
        } catch (AccessDeniedException e) {
            throw new TlsFileException(file, Problem.UNREADABLE, "permission denied", e);
        } catch (IOException e) {
            throw new TlsFileException(file, Problem.UNREADABLE, "cannot be read: " + e.getMessage(), e);
        }
    }
}
