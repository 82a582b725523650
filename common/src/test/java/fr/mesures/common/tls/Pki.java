package fr.mesures.common.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Writes certificates made by {@link Certificates} to files, the way an operator would hand them over. */
final class Pki {

    static final Validity CURRENT = Validity.fromNow(Duration.ofDays(1));

    private Pki() {
    }

    record Files(Path certificate, Path key) {
    }

    static Path writeAuthority(Path directory, String name, CertifiedKey authority) throws IOException {
        Path file = directory.resolve(name + "-ca.pem");
        PemFileWriter.writeCertificates(file, authority.chain());
        return file;
    }

    static Files write(Path directory, String name, CertifiedKey certified, KeyFormat format) throws IOException {
        Files files = new Files(directory.resolve(name + ".crt"), directory.resolve(name + ".key"));
        PemFileWriter.writeCertificates(files.certificate(), certified.chain());
        PemFileWriter.writePrivateKey(files.key(), certified.privateKey(), format);
        return files;
    }

    static Files localhostServer(Path directory, CertifiedKey authority) throws IOException {
        return write(directory, "server",
                Certificates.server(authority, List.of("localhost", "127.0.0.1"), CURRENT, KeyType.EC_P256),
                KeyFormat.PKCS8);
    }
}
