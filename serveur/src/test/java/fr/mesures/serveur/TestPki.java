package fr.mesures.serveur;

import fr.mesures.common.tls.Certificates;
import fr.mesures.common.tls.CertifiedKey;
import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.KeyType;
import fr.mesures.common.tls.PemFileWriter;
import fr.mesures.common.tls.TlsContexts;
import fr.mesures.common.tls.Validity;
import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLSocket;

/**
 * A private CA that stays, and the server certificate files it issues in a test's folder, replaced as a renewal
 * would: each file written to a temporary name and renamed over the old one, the certificate before the key.
 */
final class TestPki {

    final CertifiedKey authority;
    final Path authorityFile;
    final Path certificate;
    final Path key;

    TestPki(Path dir, String name, Validity validity) throws IOException {
        this.authority = Certificates.authority(name, validity);
        this.authorityFile = dir.resolve(name.replace(' ', '-') + "-ca.pem");
        this.certificate = dir.resolve("serveur.crt");
        this.key = dir.resolve("serveur.key");
        PemFileWriter.writeCertificates(authorityFile, authority.chain());
    }

    /** A server certificate for localhost and 127.0.0.1. */
    CertifiedKey issueServer(Validity validity) {
        return Certificates.server(authority, List.of("localhost", "127.0.0.1"), validity, KeyType.EC_P256);
    }

    /** Writes the server's certificate, then its key. */
    void install(CertifiedKey server) throws IOException {
        PemFileWriter.writeCertificates(certificate, server.chain());
        PemFileWriter.writePrivateKey(key, server.privateKey(), KeyFormat.PKCS8);
    }

    /** A client certificate of this CA, written as {@code name.crt} and {@code name.key} in {@code dir}. */
    Path[] issueClientFiles(Path dir, String name, Validity validity) throws IOException {
        CertifiedKey client = Certificates.client(authority, name, validity, KeyType.EC_P256);
        Path[] files = {dir.resolve(name + ".crt"), dir.resolve(name + ".key")};
        PemFileWriter.writeCertificates(files[0], client.chain());
        PemFileWriter.writePrivateKey(files[1], client.privateKey(), KeyFormat.PKCS8);
        return files;
    }

    /** A sensor's TLS setup that trusts this CA, host names checked. */
    ClientTls client() throws IOException {
        return TlsContexts.client(authorityFile, null, null, false);
    }

    /** The certificate a new connection to {@code port} is given. */
    static X509Certificate served(int port, ClientTls tls) throws IOException {
        try (TestClient client = TestClient.connectTls(port, tls.context(), tls.parameters())) {
            return (X509Certificate) ((SSLSocket) client.socket()).getSession().getPeerCertificates()[0];
        }
    }
}
