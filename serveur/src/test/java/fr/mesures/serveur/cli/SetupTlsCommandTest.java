package fr.mesures.serveur.cli;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.common.tls.PemFiles;
import fr.mesures.serveur.auth.CapteurPattern;
import fr.mesures.serveur.auth.Credential;
import fr.mesures.serveur.auth.Credentials;
import fr.mesures.serveur.auth.DeploymentSecrets;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code serveur setup-tls} on real files in a temporary folder, run as the compose service runs it. */
class SetupTlsCommandTest {

    @TempDir
    Path root;

    private record Run(int code, String out, String err) {
    }

    private Run run(String... args) {
        // SERVEUR_* variables, as the server's image sets them, must not reach the subcommand.
        CommandLine cli = Main.commandLine(new Main(Map.of("SERVEUR_PORT", "-1", "SERVEUR_DIR", "/elsewhere")));
        var out = new StringWriter();
        var err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path secrets() {
        return root.resolve("secrets");
    }

    private Path fleet() {
        return root.resolve("fleet");
    }

    private Run setup(String... more) {
        var args = new ArrayList<>(List.of("setup-tls", "--dir", secrets().toString(), "--fleet-dir",
                fleet().toString(), "--host", "serveur", "--host", "localhost"));
        args.addAll(List.of(more));
        return run(args.toArray(String[]::new));
    }

    @Test
    void theFirstRunMakesEveryFileAndASecondChangesNothing() throws Exception {
        Run first = setup();
        assertThat(first.code()).as(first.err()).isZero();
        assertThat(first.out()).startsWith("setup-tls: made a private CA").contains("serveur, localhost");
        assertThat(files(secrets()).keySet()).containsExactly("ca.key", "ca.pem", "credentials", "serveur.crt",
                "serveur.key");
        assertThat(files(fleet()).keySet()).as("the sensors' folder holds no key").containsExactly("ca.pem",
                "fleet.token");
        assertThat(permissions(secrets().resolve("ca.key"))).isEqualTo("rw-------");
        assertThat(permissions(secrets().resolve("serveur.key"))).isEqualTo("rw-------");
        assertThat(permissions(secrets().resolve("credentials"))).isEqualTo("rw-------");
        assertThat(permissions(fleet().resolve("fleet.token"))).isEqualTo("rw-------");
        assertThat(permissions(fleet().resolve("ca.pem"))).isEqualTo("rw-r--r--");

        String token = Files.readString(fleet().resolve("fleet.token")).strip();
        assertThat(first.out() + first.err()).as("the token is never printed").doesNotContain(token);
        Credential fleetCredential = Credentials.read(secrets().resolve("credentials")).forToken(token).orElseThrow();
        assertThat(fleetCredential.name()).isEqualTo("fleet");
        assertThat(fleetCredential.pattern()).isEqualTo(CapteurPattern.ANY);

        X509Certificate ca = PemFiles.readCertificates(fleet().resolve("ca.pem")).get(0);
        assertThat(Files.readString(fleet().resolve("ca.pem"))).isEqualTo(Files.readString(secrets().resolve("ca.pem")));
        X509Certificate certificate = PemFiles.readCertificates(secrets().resolve("serveur.crt")).get(0);
        certificate.verify(ca.getPublicKey());
        assertThat(DeploymentSecrets.names(certificate)).containsExactly("serveur", "localhost");
        assertThat(Duration.between(Instant.now(), certificate.getNotAfter().toInstant()))
                .isBetween(Duration.ofDays(824), Duration.ofDays(826));
        assertThat(ca.getNotAfter()).isAfter(certificate.getNotAfter());
        PemFiles.readCertifiedKey(secrets().resolve("serveur.crt"), secrets().resolve("serveur.key"));

        Map<String, FileState> before = states();
        Run second = setup();
        assertThat(second.code()).as(second.err()).isZero();
        assertThat(second.out()).contains("found a CA").contains("for serveur, localhost").contains("nothing changed");
        assertThat(second.err()).isEmpty();
        assertThat(states()).as("every file, its bytes and its time, and no file added").isEqualTo(before);
    }

    @Test
    void aSecondRunSaysWhenTheCertificateDoesNotNameAHostAsked() {
        assertThat(setup().code()).isZero();
        Run again = setup("--host", "mesures.example.org");
        assertThat(again.code()).isZero();
        assertThat(again.err()).contains("does not name mesures.example.org").contains("--renew-certificate");
    }

    @Test
    void renewingIssuesANewKeyFromTheSameCaAndKeepsCredentialsAndToken() throws Exception {
        assertThat(setup("--validity", "1d").code()).isZero();
        Map<String, FileState> before = states();
        Run stale = setup();
        assertThat(stale.err()).as("a certificate that expires within 30 days").contains("expires on")
                .contains("--renew-certificate");

        Run renewed = run("setup-tls", "--dir", secrets().toString(), "--renew-certificate");
        assertThat(renewed.code()).as(renewed.err()).isZero();
        assertThat(renewed.out()).contains("for serveur, localhost").contains("serves it within seconds");

        Map<String, FileState> after = states();
        assertThat(after.get("secrets/serveur.key")).isNotEqualTo(before.get("secrets/serveur.key"));
        assertThat(after.get("secrets/serveur.crt")).isNotEqualTo(before.get("secrets/serveur.crt"));
        for (String kept : List.of("secrets/ca.pem", "secrets/ca.key", "secrets/credentials", "fleet/ca.pem",
                "fleet/fleet.token")) {
            assertThat(after.get(kept)).as(kept).isEqualTo(before.get(kept));
        }
        X509Certificate certificate = PemFiles.readCertificates(secrets().resolve("serveur.crt")).get(0);
        certificate.verify(PemFiles.readCertificates(fleet().resolve("ca.pem")).get(0).getPublicKey());
        assertThat(DeploymentSecrets.names(certificate)).as("the current names when no --host is given")
                .containsExactly("serveur", "localhost");
        assertThat(certificate.getNotAfter().toInstant()).isAfter(Instant.now().plus(Duration.ofDays(824)));
        PemFiles.readCertifiedKey(secrets().resolve("serveur.crt"), secrets().resolve("serveur.key"));

        assertThat(run("setup-tls", "--dir", secrets().toString(), "--renew-certificate", "--host", "serveur",
                "--host", "mesures.example.org").code()).isZero();
        assertThat(DeploymentSecrets.names(PemFiles.readCertificates(secrets().resolve("serveur.crt")).get(0)))
                .containsExactly("serveur", "mesures.example.org");
        assertThat(setup("--host", "mesures.example.org").err()).doesNotContain("does not name mesures.example.org");
    }

    @Test
    void aNewFleetTokenReplacesTheFileAndLeavesThePreviousCredentialUntilRevoked() throws Exception {
        assertThat(setup().code()).isZero();
        String previous = Files.readString(fleet().resolve("fleet.token")).strip();

        Run rotated = setup("--new-fleet-token", "--fleet-name", "fleet-2", "--fleet-pattern", "salle_*");
        assertThat(rotated.code()).as(rotated.err()).isZero();
        assertThat(rotated.out()).contains("'fleet-2' may write salle_*").contains("revoke the previous");
        String current = Files.readString(fleet().resolve("fleet.token")).strip();
        assertThat(current).isNotEqualTo(previous);
        assertThat(rotated.out()).doesNotContain(current);
        assertThat(permissions(fleet().resolve("fleet.token"))).isEqualTo("rw-------");
        Credentials credentials = Credentials.read(secrets().resolve("credentials"));
        assertThat(credentials.forToken(current).orElseThrow().name()).isEqualTo("fleet-2");
        assertThat(credentials.forToken(previous).orElseThrow().name()).isEqualTo("fleet");

        Run taken = setup("--new-fleet-token", "--fleet-name", "fleet-2");
        assertThat(taken.code()).isEqualTo(2);
        assertThat(taken.err()).startsWith("serveur setup-tls: ").contains("'fleet-2' exists already");
        assertThat(Files.readString(fleet().resolve("fleet.token")).strip()).isEqualTo(current);
    }

    @Test
    void anIncompleteSetIsRefusedAndLeftAsItIs() throws Exception {
        assertThat(setup().code()).isZero();
        Files.delete(fleet().resolve("fleet.token"));
        Map<String, FileState> before = states();
        Run refused = setup();
        assertThat(refused.code()).isEqualTo(2);
        assertThat(refused.err().lines()).singleElement().asString().startsWith("serveur setup-tls: an incomplete set")
                .contains("fleet.token").contains("nothing was changed");
        assertThat(states()).isEqualTo(before);
    }

    @Test
    void aFolderWithSomeoneElsesCertificateIsNotTouched() throws Exception {
        Files.createDirectories(secrets());
        Files.writeString(secrets().resolve("serveur.crt"), "not ours\n");
        Run refused = setup();
        assertThat(refused.code()).isEqualTo(2);
        assertThat(refused.err()).contains("serveur.crt");
        assertThat(files(secrets()).keySet()).containsExactly("serveur.crt");
        assertThat(Files.exists(fleet())).isFalse();
    }

    @Test
    void mistakesGiveOneLineAndExitCodeTwo() {
        Run noHost = run("setup-tls", "--dir", secrets().toString());
        assertThat(noHost.code()).isEqualTo(2);
        assertThat(noHost.err()).isEqualTo("serveur setup-tls: the server's certificate needs at least one host name"
                + " (--host)" + System.lineSeparator());
        assertThat(Files.exists(secrets())).as("nothing made").isFalse();

        Run badPattern = setup("--fleet-pattern", "a*b");
        assertThat(badPattern.code()).isEqualTo(2);
        assertThat(badPattern.err()).startsWith("serveur setup-tls: 'a*b' is not a capteur_id pattern");

        assertThat(setup("--renew-certificate", "--new-fleet-token").code()).isEqualTo(2);
        Run renewNothing = setup("--renew-certificate");
        assertThat(renewNothing.code()).isEqualTo(2);
        assertThat(renewNothing.err()).contains("ca.pem").contains("missing: make the TLS files first");
        assertThat(setup("--new-fleet-token", "--fleet-name", "fleet-2").code()).isEqualTo(2);
        assertThat(setup("--validity", "soon").err()).startsWith("serveur: ").contains("--validity");
        assertThat(run("setup-tls", "--host", "serveur").code()).as("--dir is required").isEqualTo(2);
        assertThat(Files.exists(secrets())).isFalse();
    }

    private record FileState(String content, Instant modified, String permissions) {
    }

    /** Every file under the temporary folder, by its relative path: bytes, modification time and permissions. */
    private Map<String, FileState> states() throws IOException {
        Map<String, FileState> states = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path file : walk.filter(Files::isRegularFile).toList()) {
                states.put(root.relativize(file).toString(), new FileState(Files.readString(file),
                        Files.getLastModifiedTime(file).toInstant(), permissions(file)));
            }
        }
        return states;
    }

    private static Map<String, String> files(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path file : list.toList()) {
                files.put(file.getFileName().toString(), Files.readString(file));
            }
        }
        return files;
    }

    private static String permissions(Path file) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }
}
