package fr.mesures.common.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A private certificate authority and a server certificate it signed, written as PEM files in one folder
 * ({@code ca.pem}, {@code ca.key}, {@code serveur.crt}, {@code serveur.key}): what a deployment without a public CA
 * hands the server and its sensors, and what tests start from. The authority's key stays beside its certificate
 * so that client certificates can be issued later ({@link #issueClient}); whoever holds it can issue certificates
 * the server trusts, so it belongs where the server's own key does, and no further.
 *
 * @param authority    the authority's certificate, for the sensors (and, with client certificates, the server) to
 *                     trust
 * @param authorityKey the authority's private key
 * @param certificate  the server's certificate chain
 * @param key          the server's private key
 */
public record PrivatePki(Path authority, Path authorityKey, Path certificate, Path key) {

    /** Makes the authority and a server certificate for {@code names} (host names or IP addresses) in {@code dir}. */
    public static PrivatePki create(Path dir, List<String> names, Validity validity, KeyFormat keyFormat)
            throws IOException {
        CertifiedKey ca = Certificates.authority("mesures private CA", validity);
        CertifiedKey server = Certificates.server(ca, names, validity, KeyType.EC_P256);
        PrivatePki files = new PrivatePki(dir.resolve("ca.pem"), dir.resolve("ca.key"), dir.resolve("serveur.crt"),
                dir.resolve("serveur.key"));
        PemFileWriter.writeCertificates(files.authority(), ca.chain());
        PemFileWriter.writePrivateKey(files.authorityKey(), ca.privateKey(), KeyFormat.PKCS8);
        PemFileWriter.writeCertificates(files.certificate(), server.chain());
        PemFileWriter.writePrivateKey(files.key(), server.privateKey(), keyFormat);
        return files;
    }

    /**
     * Issues a client certificate whose subject CN is {@code commonName} (a sensor's identity), written as
     * {@code NAME.crt} and {@code NAME.key} beside the authority.
     *
     * @return the certificate file and the key file, in that order
     */
    public List<Path> issueClient(String commonName, Validity validity) throws IOException, TlsFileException {
        CertifiedKey ca = PemFiles.readCertifiedKey(authority, authorityKey);
        CertifiedKey client = Certificates.client(ca, commonName, validity, KeyType.EC_P256);
        Path dir = authority.toAbsolutePath().getParent();
        Path certificateFile = dir.resolve(commonName + ".crt");
        Path keyFile = dir.resolve(commonName + ".key");
        PemFileWriter.writeCertificates(certificateFile, client.chain());
        PemFileWriter.writePrivateKey(keyFile, client.privateKey(), KeyFormat.PKCS8);
        return List.of(certificateFile, keyFile);
    }

    /** The server's TLS setup from these files, without client certificates. */
    public ServerTls server() throws TlsFileException {
        return TlsContexts.server(certificate, key, null, ClientAuth.NONE);
    }

    /** The server's TLS setup from these files, asking clients for certificates issued by this authority. */
    public ServerTls server(ClientAuth clientAuth) throws TlsFileException {
        return TlsContexts.server(certificate, key, authority, clientAuth);
    }

    /** A sensor's TLS setup that trusts this authority alone, host names checked. */
    public ClientTls client() throws TlsFileException {
        return TlsContexts.client(authority, null, null, false);
    }

    /** The same, presenting a client certificate ({@link #issueClient}). */
    public ClientTls client(Path certificateFile, Path keyFile) throws TlsFileException {
        return TlsContexts.client(authority, certificateFile, keyFile, false);
    }
}
