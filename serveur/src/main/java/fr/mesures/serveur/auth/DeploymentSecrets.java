package fr.mesures.serveur.auth;

import fr.mesures.common.files.AtomicFiles;
import fr.mesures.common.tls.Certificates;
import fr.mesures.common.tls.CertifiedKey;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.KeyType;
import fr.mesures.common.tls.PemFileWriter;
import fr.mesures.common.tls.PemFiles;
import fr.mesures.common.tls.TlsFileException;
import fr.mesures.common.tls.Validity;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The files a deployment with TLS and tokens starts from, made once and then kept: a private CA ({@code ca.pem},
 * {@code ca.key}), the server's certificate for its host names ({@code serveur.crt}, {@code serveur.key}), a
 * credentials file holding one credential for the whole fleet of sensors, and, in the sensors' folder, that
 * credential's token ({@code fleet.token}) beside a copy of {@code ca.pem}. Keys, credentials and token are
 * readable by their owner only. Found complete, they are kept as they are, so a container may call
 * {@link #prepare} at every start; renewing the server's certificate and adding a fleet token are explicit calls.
 */
public final class DeploymentSecrets {

    /** Longer than any server certificate it signs: redoing the CA means handing every sensor a new ca.pem. */
    public static final Duration AUTHORITY_VALIDITY = Duration.ofDays(3650);
    /** What public CAs allowed until 2020; a private CA is free to choose, and renewal is one command. */
    public static final Duration DEFAULT_CERTIFICATE_VALIDITY = Duration.ofDays(825);

    private static final String AUTHORITY_NAME = "mesures private CA";

    private final Layout layout;

    public DeploymentSecrets(Layout layout) {
        this.layout = Objects.requireNonNull(layout, "layout");
    }

    /**
     * Where the files go: the server's folder, and the sensors' folder (which may be the same one). Kept apart, a
     * sensor's container mounts only what it needs, never a key.
     */
    public record Layout(Path dir, Path fleetDir) {

        public Layout {
            Objects.requireNonNull(dir, "dir");
            Objects.requireNonNull(fleetDir, "fleetDir");
        }

        public Path authority() {
            return dir.resolve("ca.pem");
        }

        public Path authorityKey() {
            return dir.resolve("ca.key");
        }

        public Path certificate() {
            return dir.resolve("serveur.crt");
        }

        public Path key() {
            return dir.resolve("serveur.key");
        }

        public Path credentials() {
            return dir.resolve("credentials");
        }

        public Path fleetAuthority() {
            return fleetDir.resolve("ca.pem");
        }

        public Path fleetToken() {
            return fleetDir.resolve("fleet.token");
        }

        /** Every file, in the order they are written: the server's ca.pem last, as the mark of a finished set. */
        List<Path> files() {
            var files = new LinkedHashSet<Path>();
            for (Path file : List.of(credentials(), fleetToken(), key(), certificate(), authorityKey(),
                    fleetAuthority(), authority())) {
                files.remove(file.toAbsolutePath().normalize());
                files.add(file.toAbsolutePath().normalize());
            }
            return List.copyOf(files);
        }
    }

    /**
     * What {@link #prepare} found or made.
     *
     * @param created     true when the files were made now, false when they were there already
     * @param authority   the CA's certificate
     * @param certificate the server's certificate
     */
    public record State(boolean created, X509Certificate authority, X509Certificate certificate) {

        /** The host names and addresses the server's certificate is valid for. */
        public List<String> names() {
            return DeploymentSecrets.names(certificate);
        }
    }

    /**
     * Makes every file when none exists, or reads what is there when all exist, changing nothing.
     *
     * @param hosts        the server's host names or IP addresses, for its certificate (needed only to make one)
     * @param fleetName    the name of the fleet's credential
     * @param fleetPattern the {@code capteur_id}s the fleet's token may write
     * @param validity     how long the server's certificate is valid
     * @throws IllegalStateException when only some of the files exist (an interrupted run, or files from elsewhere):
     *                               nothing is touched, the message names what is there and what is missing
     */
    public State prepare(List<String> hosts, String fleetName, CapteurPattern fleetPattern, Duration validity)
            throws IOException {
        List<Path> present = layout.files().stream().filter(Files::exists).toList();
        if (present.size() == layout.files().size()) {
            return new State(false, leaf(layout.authority()), leaf(layout.certificate()));
        }
        if (!present.isEmpty()) {
            List<Path> missing = layout.files().stream().filter(file -> !present.contains(file)).toList();
            throw new IllegalStateException("an incomplete set of TLS files: " + present + " exist but " + missing
                    + " do not (an interrupted setup, or files from elsewhere); nothing was changed: remove those"
                    + " files to start again, or put the missing ones back");
        }
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("the server's certificate needs at least one host name (--host)");
        }
        createDirectory(layout.dir());
        createDirectory(layout.fleetDir());
        CertifiedKey authority = Certificates.authority(AUTHORITY_NAME, Validity.fromNow(AUTHORITY_VALIDITY));
        CertifiedKey server = Certificates.server(authority, List.copyOf(new LinkedHashSet<>(hosts)),
                within(authority, validity), KeyType.EC_P256);
        // The order of Layout.files(): an interruption leaves a set without the server's ca.pem, which the next run
        // refuses to take for a finished one.
        String token = new CredentialsFile(layout.credentials()).addToken(fleetName, fleetPattern);
        AtomicFiles.replace(layout.fleetToken(), token + "\n", true);
        PemFileWriter.writePrivateKey(layout.key(), server.privateKey(), KeyFormat.PKCS8);
        PemFileWriter.writeCertificates(layout.certificate(), server.chain());
        PemFileWriter.writePrivateKey(layout.authorityKey(), authority.privateKey(), KeyFormat.PKCS8);
        PemFileWriter.writeCertificates(layout.fleetAuthority(), authority.chain());
        PemFileWriter.writeCertificates(layout.authority(), authority.chain());
        return new State(true, authority.leaf(), server.leaf());
    }

    /**
     * Issues the server a new key and certificate from the existing CA, for {@code hosts} or, when empty, for the
     * names of the current certificate. The CA, the credentials and the tokens stay as they are, so the sensors
     * need nothing new.
     *
     * @return the new certificate: valid for {@code validity}, or until the CA expires if that comes first
     */
    public X509Certificate renewCertificate(List<String> hosts, Duration validity) throws IOException {
        require(layout.authority(), layout.authorityKey(), layout.certificate());
        CertifiedKey authority = PemFiles.readCertifiedKey(layout.authority(), layout.authorityKey());
        List<String> names = hosts.isEmpty() ? names(leaf(layout.certificate()))
                : List.copyOf(new LinkedHashSet<>(hosts));
        CertifiedKey server = Certificates.server(authority, names, within(authority, validity), KeyType.EC_P256);
        PemFileWriter.writePrivateKey(layout.key(), server.privateKey(), KeyFormat.PKCS8);
        PemFileWriter.writeCertificates(layout.certificate(), server.chain());
        return server.leaf();
    }

    /**
     * Adds a new fleet credential and puts its token in {@code fleet.token} in place of the previous one, whose
     * credential stays until it is revoked: sensors still running with it go on meanwhile.
     *
     * @throws CredentialsException when the name is taken
     */
    public void newFleetToken(String fleetName, CapteurPattern fleetPattern) throws IOException {
        require(layout.credentials(), layout.fleetDir());
        String token = new CredentialsFile(layout.credentials()).addToken(fleetName, fleetPattern);
        AtomicFiles.replace(layout.fleetToken(), token + "\n", true);
    }

    /** A change to an existing set needs that set: never a credentials file or CA started in a mistyped folder. */
    private static void require(Path... files) {
        List<Path> missing = Stream.of(files).filter(file -> !Files.exists(file)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalStateException(missing + " missing: make the TLS files first (setup-tls without"
                    + " --renew-certificate or --new-fleet-token)");
        }
    }

    /** {@code validity} from now, cut at the authority's own end: a certificate outliving its CA is refused. */
    private static Validity within(CertifiedKey authority, Duration validity) {
        Validity wanted = Validity.fromNow(validity);
        Instant end = authority.validity().notAfter();
        return wanted.notAfter().isAfter(end) ? new Validity(wanted.notBefore(), end) : wanted;
    }

    private static X509Certificate leaf(Path file) throws TlsFileException {
        return PemFiles.readCertificates(file).get(0);
    }

    /** The host names and IP addresses a certificate is valid for (its subject alternative names). */
    public static List<String> names(X509Certificate certificate) {
        try {
            Collection<List<?>> alternatives = certificate.getSubjectAlternativeNames();
            List<String> names = new ArrayList<>();
            if (alternatives != null) {
                for (List<?> name : alternatives) {
                    names.add(String.valueOf(name.get(1)));
                }
            }
            return List.copyOf(names);
        } catch (CertificateParsingException e) {
            throw new IllegalStateException("the server's certificate has unreadable names: " + e.getMessage(), e);
        }
    }

    private static void createDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, ownerOnly("rwx------"));
        }
    }

    private static FileAttribute<?>[] ownerOnly(String permissions) {
        return FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions))}
                : new FileAttribute<?>[0];
    }
}
