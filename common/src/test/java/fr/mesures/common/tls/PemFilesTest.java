package fr.mesures.common.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.common.tls.TlsFileException.Problem;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.util.List;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PemFilesTest {

    private static final CertifiedKey AUTHORITY = Certificates.authority("test CA", Pki.CURRENT);

    @TempDir
    Path directory;

    @ParameterizedTest
    @CsvSource({
        "EC_P256, PKCS8, -----BEGIN PRIVATE KEY-----",
        "EC_P256, SEC1, -----BEGIN EC PRIVATE KEY-----",
        "RSA_2048, PKCS8, -----BEGIN PRIVATE KEY-----",
        "RSA_2048, PKCS1, -----BEGIN RSA PRIVATE KEY-----"})
    void everyKeyFormLoadsAsTheKeyThatWasWritten(KeyType type, KeyFormat format, String header) throws IOException {
        CertifiedKey made = Certificates.client(AUTHORITY, "capteur_1", Pki.CURRENT, type);
        Pki.Files files = Pki.write(directory, "client", made, format);

        assertThat(Files.readString(files.key())).startsWith(header);
        CertifiedKey loaded = PemFiles.readCertifiedKey(files.certificate(), files.key());
        // Not the encodings: a SEC1 key read back carries its public point, which the JDK's own encoding leaves out.
        assertThat(secret(loaded.privateKey())).isEqualTo(secret(made.privateKey()));
        assertThat(loaded.chain()).isEqualTo(made.chain());
    }

    @Test
    void aChainIsReadLeafFirstAndAKeyFileMayHoldCertificatesAndEcParameters() throws IOException {
        CertifiedKey server = Certificates.server(AUTHORITY, List.of("localhost"), Pki.CURRENT, KeyType.EC_P256);
        Path chain = directory.resolve("chain.pem");
        PemFileWriter.writeCertificates(chain, List.of(server.leaf(), AUTHORITY.leaf()));
        Path key = directory.resolve("key.pem");
        PemFileWriter.writePrivateKey(key, server.privateKey(), KeyFormat.SEC1);
        // What 'openssl ecparam -genkey' writes before the key, and a certificate appended as some tools do.
        String parameters = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
        Files.writeString(key, parameters + Files.readString(key) + Files.readString(chain));

        CertifiedKey loaded = PemFiles.readCertifiedKey(chain, key);

        assertThat(loaded.chain()).containsExactly(server.leaf(), AUTHORITY.leaf());
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() throws IOException {
        Pki.Files one = Pki.write(directory, "one",
                Certificates.client(AUTHORITY, "one", Pki.CURRENT, KeyType.EC_P256), KeyFormat.PKCS8);
        Pki.Files other = Pki.write(directory, "other",
                Certificates.client(AUTHORITY, "other", Pki.CURRENT, KeyType.EC_P256), KeyFormat.PKCS8);

        assertThatThrownBy(() -> PemFiles.readCertifiedKey(one.certificate(), other.key()))
                .isInstanceOfSatisfying(TlsFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.KEY_MISMATCH))
                .hasMessageContaining(one.certificate().toString())
                .hasMessageContaining("does not belong to this certificate (CN=one)");
    }

    @Test
    void aKeyOfAnotherTypeIsRefusedAsMismatched() throws IOException {
        Pki.Files ec = Pki.write(directory, "ec",
                Certificates.client(AUTHORITY, "ec", Pki.CURRENT, KeyType.EC_P256), KeyFormat.PKCS8);
        Pki.Files rsa = Pki.write(directory, "rsa",
                Certificates.client(AUTHORITY, "rsa", Pki.CURRENT, KeyType.RSA_2048), KeyFormat.PKCS1);

        assertThatThrownBy(() -> PemFiles.readCertifiedKey(ec.certificate(), rsa.key()))
                .isInstanceOfSatisfying(TlsFileException.class, e -> assertThat(e.problem()).isEqualTo(Problem.KEY_MISMATCH));
    }

    @Test
    void aChainWithTheLeafNotFirstIsRefusedWithTheReason() throws IOException {
        CertifiedKey server = Certificates.server(AUTHORITY, List.of("localhost"), Pki.CURRENT, KeyType.EC_P256);
        Path chain = directory.resolve("chain.pem");
        PemFileWriter.writeCertificates(chain, List.of(AUTHORITY.leaf(), server.leaf()));
        Path key = directory.resolve("key.pem");
        PemFileWriter.writePrivateKey(key, server.privateKey(), KeyFormat.PKCS8);

        assertThatThrownBy(() -> PemFiles.readCertifiedKey(chain, key))
                .hasMessageContaining("belongs to certificate number 2").hasMessageContaining("must come first");
    }

    @Test
    void missingEmptyGarbageAndDamagedFilesGetAMessageNamingTheFile() throws IOException {
        Path missing = directory.resolve("missing.pem");
        Path empty = Files.writeString(directory.resolve("empty.pem"), "\n");
        Path garbage = Files.write(directory.resolve("garbage.der"), new byte[] {0x30, (byte) 0x82, 0x01, (byte) 0xff, 0});
        Path damaged = Files.writeString(directory.resolve("damaged.pem"),
                "-----BEGIN CERTIFICATE-----\nMIIB!!not base64!!\n-----END CERTIFICATE-----\n");

        assertProblem(() -> PemFiles.readCertificates(missing), missing, Problem.MISSING, "no such file");
        assertProblem(() -> PemFiles.readPrivateKey(missing), missing, Problem.MISSING, "no such file");
        assertProblem(() -> PemFiles.readCertificates(empty), empty, Problem.EMPTY, "the file is empty");
        assertProblem(() -> PemFiles.readPrivateKey(garbage), garbage, Problem.NOT_PEM, "not a PEM file");
        assertProblem(() -> PemFiles.readCertificates(damaged), damaged, Problem.NOT_PEM, "damaged PEM content");
        assertProblem(() -> PemFiles.readCertificates(directory), directory, Problem.UNREADABLE, "is a directory");
    }

    @Test
    void aKeyFileWithoutKeyAndACertificateFileWithoutCertificateAreNamedAsSuch() throws IOException {
        Pki.Files files = Pki.write(directory, "c",
                Certificates.client(AUTHORITY, "c", Pki.CURRENT, KeyType.EC_P256), KeyFormat.PKCS8);

        assertProblem(() -> PemFiles.readPrivateKey(files.certificate()), files.certificate(), Problem.NO_PRIVATE_KEY,
                "no private key in this file");
        assertProblem(() -> PemFiles.readCertificates(files.key()), files.key(), Problem.NO_CERTIFICATE,
                "no certificate in this file");
    }

    @Test
    void twoKeysInOneFileAreRefused() throws IOException {
        Path key = directory.resolve("key.pem");
        PemFileWriter.writePrivateKey(key, AUTHORITY.privateKey(), KeyFormat.PKCS8);
        Files.writeString(key, Files.readString(key).repeat(2));

        assertProblem(() -> PemFiles.readPrivateKey(key), key, Problem.TOO_MANY_KEYS, "2 private keys");
    }

    @Test
    void encryptedKeysInBothFormsAreRefusedWithTheWayOut() throws Exception {
        char[] passphrase = "secret".toCharArray();
        BouncyCastleProvider provider = new BouncyCastleProvider();
        StringWriter traditional = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(traditional)) {
            pem.writeObject(AUTHORITY.privateKey(),
                    new JcePEMEncryptorBuilder("AES-256-CBC").setProvider(provider).build(passphrase));
        }
        StringWriter pkcs8 = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(pkcs8)) {
            pem.writeObject(new JcaPKCS8Generator(AUTHORITY.privateKey(),
                    new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC).setProvider(provider)
                            .setPassword(passphrase).build()));
        }
        Path one = Files.writeString(directory.resolve("traditional.pem"), traditional.toString());
        Path two = Files.writeString(directory.resolve("pkcs8.pem"), pkcs8.toString(), StandardCharsets.US_ASCII);
        assertThat(Files.readString(two)).startsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----");

        assertProblem(() -> PemFiles.readPrivateKey(one), one, Problem.ENCRYPTED_KEY, "openssl pkey -in");
        assertProblem(() -> PemFiles.readPrivateKey(two), two, Problem.ENCRYPTED_KEY, "is encrypted");
    }

    private static BigInteger secret(PrivateKey key) {
        return key instanceof ECPrivateKey ec ? ec.getS() : ((RSAPrivateKey) key).getPrivateExponent();
    }

    private interface Read {
        Object run() throws IOException;
    }

    private static void assertProblem(Read read, Path file, Problem problem, String text) {
        assertThatThrownBy(read::run).as(file + " " + problem)
                .isInstanceOfSatisfying(TlsFileException.class, e -> {
                    assertThat(e.problem()).isEqualTo(problem);
                    assertThat(e.file()).isEqualTo(file);
                })
                .hasMessageStartingWith(file + ": ")
                .hasMessageContaining(text);
    }
}
