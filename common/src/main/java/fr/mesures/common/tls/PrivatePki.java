package fr.mesures.common.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A private certificate authority and a server certificate it signed, written as PEM files in one folder
 * ({@code ca.pem}, {@code serveur.crt}, {@code serveur.key}): what a deployment without a public CA hands the server
 * and its sensors, and what tests start from.
 *
 * @param authority   the authority's certificate, for the sensors to trust
 * @param certificate the server's certificate chain
 * @param key         the server's private key
 */
public record PrivatePki(Path authority, Path certificate, Path key) {

    /** Makes the authority and a server certificate for {@code names} (host names or IP addresses) in {@code dir}. */
    public static PrivatePki create(Path dir, List<String> names, Validity validity, KeyFormat keyFormat)
            throws IOException {
        CertifiedKey ca = Certificates.authority("mesures private CA", validity);
        CertifiedKey server = Certificates.server(ca, names, validity, KeyType.EC_P256);
        PrivatePki files = new PrivatePki(dir.resolve("ca.pem"), dir.resolve("serveur.crt"),
                dir.resolve("serveur.key"));
        PemFileWriter.writeCertificates(files.authority(), ca.chain());
        PemFileWriter.writeCertificates(files.certificate(), server.chain());
        PemFileWriter.writePrivateKey(files.key(), server.privateKey(), keyFormat);
        return files;
    }

    /** The server's TLS setup from these files, without client certificates. */
    public ServerTls server() throws TlsFileException {
        return TlsContexts.server(certificate, key, null, ClientAuth.NONE);
    }

    /** A sensor's TLS setup that trusts this authority alone, host names checked. */
    public ClientTls client() throws TlsFileException {
        return TlsContexts.client(authority, null, null, false);
    }
}
