package fr.mesures.capteur.it;

import fr.mesures.common.tls.CertifiedKey;
import fr.mesures.common.tls.Certificates;
import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.KeyType;
import fr.mesures.common.tls.PemFileWriter;
import fr.mesures.common.tls.ServerTls;
import fr.mesures.common.tls.TlsContexts;
import fr.mesures.common.tls.Validity;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A private authority kept in memory, so that tests can have it sign sensors' certificates as well as the
 * server's ({@link fr.mesures.common.tls.PrivatePki} writes files only), and the server's TLS setup asking for
 * them.
 */
final class TestPki {

    private static final Validity CURRENT = Validity.fromNow(Duration.ofDays(1));

    private final Path dir;
    private final CertifiedKey authority;
    /** The authority's certificate, as the sensors' --tls-ca and the server's --tls-client-ca. */
    final Path caFile;
    final Path serverCertificate;
    final Path serverKey;

    private TestPki(Path dir, String name) throws IOException {
        this.dir = dir;
        this.authority = Certificates.authority(name, CURRENT);
        this.caFile = dir.resolve(name.replace(' ', '-') + "-ca.pem");
        PemFileWriter.writeCertificates(caFile, authority.chain());
        CertifiedKey server = Certificates.server(authority, List.of("localhost", "127.0.0.1"), CURRENT,
                KeyType.EC_P256);
        serverCertificate = dir.resolve(name.replace(' ', '-') + "-serveur.crt");
        serverKey = dir.resolve(name.replace(' ', '-') + "-serveur.key");
        PemFileWriter.writeCertificates(serverCertificate, server.chain());
        PemFileWriter.writePrivateKey(serverKey, server.privateKey(), KeyFormat.PKCS8);
    }

    static TestPki create(Path dir, String name) throws IOException {
        return new TestPki(dir, name);
    }

    /** A sensor's certificate for {@code commonName} and its key, as files: {@code [certificate, key]}. */
    Path[] client(String commonName) throws IOException {
        CertifiedKey client = Certificates.client(authority, commonName, CURRENT, KeyType.EC_P256);
        Path certificate = dir.resolve(commonName + ".crt");
        Path key = dir.resolve(commonName + ".key");
        PemFileWriter.writeCertificates(certificate, client.chain());
        PemFileWriter.writePrivateKey(key, client.privateKey(), KeyFormat.PKCS8);
        return new Path[] {certificate, key};
    }

    /** The server's TLS setup, asking clients for a certificate from {@code clientCa} as {@code mode} says. */
    ServerTls server(Path clientCa, ClientAuth mode) throws IOException {
        return TlsContexts.server(serverCertificate, serverKey, clientCa, mode);
    }
}
