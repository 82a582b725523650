package fr.mesures.capteur.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The options a sensor proves who it is with: each way to get them wrong is one line on standard error and exit
 * code 2, before anything connects, and no message quotes the secret. (Their use on the wire is tested in
 * {@code AuthExchangeTest}.)
 */
@Timeout(10)
class AuthOptionsTest {

    @TempDir
    Path dir;

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(Map<String, String> environment, String... args) {
        CommandLine cl = CapteurCommand.commandLine(new CapteurCommand(InputStream.nullInputStream(), environment));
        var out = new StringWriter();
        var err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static void assertBadUsage(Run run, String... fragments) {
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().lines()).hasSize(1);
        assertThat(run.err()).startsWith("capteur: ").contains("--help").contains(fragments);
        assertThat(run.out()).isEmpty();
    }

    @Test
    void tokenAndTokenFileTogetherAreRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("token"), "abc\n");
        assertBadUsage(run(Map.of(), "--token", "abc", "--token-file", file.toString()), "--token", "--token-file",
                "give one");
    }

    @Test
    void aTokenInTheEnvironmentAndATokenFileAreRefusedToo() throws Exception {
        Path file = Files.writeString(dir.resolve("token"), "abc\n");
        assertBadUsage(run(Map.of("CAPTEUR_TOKEN", "xyz"), "--token-file", file.toString()), "both given");
        assertBadUsage(run(Map.of("CAPTEUR_TOKEN_FILE", file.toString()), "--token", "xyz"), "both given");
    }

    @Test
    void anEmptyTokenFileIsRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("token"), "  \n\n");
        assertBadUsage(run(Map.of(), "--token-file", file.toString()), "the token file " + file + " is empty");
    }

    @Test
    void aTokenFileThatCannotBeReadIsRefused() {
        Path missing = dir.resolve("missing");
        assertBadUsage(run(Map.of(), "--token-file", missing.toString()), "cannot read the token file " + missing);
        assertBadUsage(run(Map.of(), "--token-file", dir.toString()), "cannot read the token file " + dir);
    }

    @Test
    void aTokenThatCannotBeSentIsRefusedWithoutQuotingIt() throws Exception {
        Run run = run(Map.of(), "--token", "my secret");
        assertBadUsage(run, "--token:", "position 3");
        assertThat(run.err()).doesNotContain("secret");
        assertBadUsage(run(Map.of(), "--token="), "--token: the token is empty");
        Path file = Files.writeString(dir.resolve("token"), "mot de passe\n");
        Run fromFile = run(Map.of(), "--token-file", file.toString());
        assertBadUsage(fromFile, file.toString(), "not printable ASCII");
        assertThat(fromFile.err()).doesNotContain("passe");
    }

    @Test
    void aClientCertificateNeedsItsKeyAndReadableFiles() {
        Path cert = dir.resolve("capteur.crt");
        assertBadUsage(run(Map.of(), "--tls-cert", cert.toString()), "give both files or neither");
        assertBadUsage(run(Map.of(), "--tls-key", cert.toString()), "give both files or neither");
        assertBadUsage(run(Map.of(), "--tls-cert", cert.toString(), "--tls-key", dir.resolve("capteur.key")
                .toString()), cert.toString());
    }

    @Test
    void flagsAreReadFromTheEnvironmentToo() {
        // CAPTEUR_TLS was documented but flags took nothing from the environment; now a bad value is reported.
        assertBadUsage(run(Map.of("CAPTEUR_TLS", "maybe")), "--tls", "maybe");
        assertBadUsage(run(Map.of("CAPTEUR_TLS_CERT", dir.resolve("capteur.crt").toString())),
                "give both files or neither");
    }

    @Test
    void helpShowsTheNewOptionsAndTheirVariables() {
        Run run = run(Map.of(), "--help");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("--token", "CAPTEUR_TOKEN", "--token-file", "CAPTEUR_TOKEN_FILE", "--tls-cert",
                "CAPTEUR_TLS_CERT", "--tls-key", "CAPTEUR_TLS_KEY", "FOR TESTS ONLY");
    }
}
