package fr.mesures.serveur.cli;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.Validity;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {

    @TempDir
    Path dir;

    private record Run(int exitCode, String err, String out) {
    }

    private Run run(String... args) {
        var err = new StringWriter();
        var out = new StringWriter();
        PrintStream systemErr = System.err;
        var captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            CommandLine cli = Main.commandLine(new Main(Map.of()));
            cli.setErr(new PrintWriter(err, true));
            cli.setOut(new PrintWriter(out, true));
            int code = cli.execute(args);
            return new Run(code, err + captured.toString(StandardCharsets.UTF_8), out.toString());
        } finally {
            System.setErr(systemErr);
        }
    }

    @Test
    void anUnknownFlagIsOneLineAndExitCode2() {
        Run run = run("--prot", "5050");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().lines()).singleElement().asString().startsWith("serveur: Unknown option").contains("'--prot'");
    }

    @Test
    void aBadValueIsOneLineAndExitCode2() {
        Run port = run("--port", "fifty");
        assertThat(port.exitCode()).isEqualTo(2);
        assertThat(port.err().lines()).singleElement().asString().contains("--port").contains("fifty");
        Run idle = run("--idle-timeout", "soon");
        assertThat(idle.exitCode()).isEqualTo(2);
        assertThat(idle.err().lines()).singleElement().asString().contains("not a duration");
        Run store = run("--store", "postgres:x", "--http-port", "-1");
        assertThat(store.exitCode()).isEqualTo(2);
        assertThat(store.err().lines()).singleElement().asString().contains("sqlite:PATH or file:PATH");
    }

    @Test
    void anUnwritableStoreFailsAtStartWithOneLine() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
        Run run = run("--store", "sqlite:" + file.resolve("mesures.db"), "--port", "0", "--http-port", "-1");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().lines()).singleElement().asString().startsWith("serveur: cannot create the directory");
    }

    @Test
    void authSettingsThatCannotWorkAreOneLineAndExitCode2() throws Exception {
        Path store = dir.resolve("mesures.db");
        Run required = run("--require-auth", "--store", "sqlite:" + store, "--http-port", "-1");
        assertThat(required.exitCode()).isEqualTo(2);
        assertThat(required.err().lines()).singleElement().asString().isEqualTo("serveur: --require-auth needs a way"
                + " to authenticate: --credentials or --tls-client-ca");
        Run plaintext = run("--allow-plaintext-auth", "--store", "sqlite:" + store, "--http-port", "-1");
        assertThat(plaintext.exitCode()).isEqualTo(2);
        assertThat(plaintext.err().lines()).singleElement().asString().contains("--allow-plaintext-auth needs"
                + " --credentials");
        Path broken = Files.writeString(dir.resolve("credentials"), "sha256:abc salle_* salle\n");
        Run unreadable = run("--credentials", broken.toString(), "--store", "sqlite:" + store, "--http-port", "-1");
        assertThat(unreadable.exitCode()).isEqualTo(2);
        assertThat(unreadable.err().lines()).singleElement().asString().startsWith("serveur: " + broken + ":1:")
                .contains("is not a SHA-256");
    }

    @Test
    void tlsSettingsThatCannotWorkAreOneLineAndExitCode2() throws Exception {
        Path store = dir.resolve("mesures.db");
        Run alone = run("--tls-cert", "serveur.crt", "--store", "sqlite:" + store, "--http-port", "-1");
        assertThat(alone.exitCode()).isEqualTo(2);
        assertThat(alone.err().lines()).singleElement().asString().isEqualTo(
                "serveur: TLS needs both --tls-cert and --tls-key");
        Path garbage = Files.writeString(dir.resolve("serveur.crt"), "not a certificate");
        Run bad = run("--tls-cert", garbage.toString(), "--tls-key", garbage.toString(), "--store", "sqlite:" + store,
                "--http-port", "-1");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err().lines()).singleElement().asString().startsWith("serveur: ").contains("serveur.crt");
        Run nothing = run("--port", "-1", "--store", "sqlite:" + store, "--http-port", "-1");
        assertThat(nothing.exitCode()).isEqualTo(2);
        assertThat(nothing.err().lines()).singleElement().asString().contains("there must be a TLS port");
    }

    @Test
    void httpsAndTokenSettingsThatCannotWorkAreOneLineAndExitCode2() throws Exception {
        String store = "sqlite:" + dir.resolve("mesures.db");
        Run certAlone = run("--http-tls-cert", "serveur.crt", "--store", store, "--port", "0", "--http-port", "0");
        assertThat(certAlone.exitCode()).isEqualTo(2);
        assertThat(certAlone.err().lines()).singleElement().asString().isEqualTo(
                "serveur: HTTPS needs both --http-tls-cert and --http-tls-key");
        Run keyAlone = run("--http-tls-key", "serveur.key", "--store", store, "--port", "0", "--http-port", "0");
        assertThat(keyAlone.exitCode()).isEqualTo(2);
        assertThat(keyAlone.err().lines()).singleElement().asString().isEqualTo(
                "serveur: HTTPS needs both --http-tls-cert and --http-tls-key");
        Path garbage = Files.writeString(dir.resolve("http.crt"), "not a certificate");
        Run bad = run("--http-tls-cert", garbage.toString(), "--http-tls-key", garbage.toString(), "--store", store,
                "--port", "0", "--http-port", "0");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err().lines()).singleElement().asString().startsWith("serveur: ").contains("http.crt");

        Run missing = run("--http-token-file", dir.resolve("absent.token").toString(), "--store", store,
                "--port", "0", "--http-port", "0");
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err().lines()).singleElement().asString().isEqualTo(
                "serveur: the token file " + dir.resolve("absent.token") + " does not exist");
        Path empty = Files.writeString(dir.resolve("empty.token"), " \n");
        Run blank = run("--http-token-file", empty.toString(), "--store", store, "--port", "0", "--http-port", "0");
        assertThat(blank.exitCode()).isEqualTo(2);
        assertThat(blank.err().lines()).singleElement().asString().isEqualTo(
                "serveur: the token file " + empty + " is empty");
        assertThat(Files.exists(dir.resolve("mesures.db"))).as("nothing started").isFalse();
    }

    @Test
    void theHttpSecurityOptionsReadTheirEnvironmentVariables() {
        Main main = new Main(Map.of(
                "SERVEUR_HTTP_TLS_CERT", "/etc/serveur/http.crt",
                "SERVEUR_HTTP_TLS_KEY", "/etc/serveur/http.key",
                "SERVEUR_HTTP_TOKEN_FILE", "/run/secrets/metrics-token"));
        Main.commandLine(main).parseArgs();
        assertThat(main.httpTlsCert).isEqualTo(Path.of("/etc/serveur/http.crt"));
        assertThat(main.httpTlsKey).isEqualTo(Path.of("/etc/serveur/http.key"));
        assertThat(main.httpTokenFile).isEqualTo(Path.of("/run/secrets/metrics-token"));
        Main none = new Main(Map.of());
        Main.commandLine(none).parseArgs();
        assertThat(none.httpTlsCert).isNull();
        assertThat(none.httpTokenFile).isNull();
    }

    @Test
    void clientCertificateOptionsComeFromFlagsOrTheEnvironmentAndRequiredIsTheDefaultWithACa() {
        Main none = new Main(Map.of());
        Main.commandLine(none).parseArgs();
        assertThat(none.tlsClientCa).isNull();
        assertThat(none.clientAuth()).isEqualTo(ClientAuth.NONE);

        Main withCa = new Main(Map.of());
        Main.commandLine(withCa).parseArgs("--tls-client-ca", "capteurs-ca.pem");
        assertThat(withCa.tlsClientCa).isEqualTo(Path.of("capteurs-ca.pem"));
        assertThat(withCa.clientAuth()).isEqualTo(ClientAuth.REQUIRED);

        Main optional = new Main(Map.of());
        Main.commandLine(optional).parseArgs("--tls-client-ca", "capteurs-ca.pem", "--tls-client-auth", "Optional");
        assertThat(optional.clientAuth()).isEqualTo(ClientAuth.OPTIONAL);

        Main fromEnvironment = new Main(Map.of("SERVEUR_TLS_CLIENT_CA", "/etc/serveur/capteurs-ca.pem",
                "SERVEUR_TLS_CLIENT_AUTH", "optional"));
        Main.commandLine(fromEnvironment).parseArgs();
        assertThat(fromEnvironment.tlsClientCa).isEqualTo(Path.of("/etc/serveur/capteurs-ca.pem"));
        assertThat(fromEnvironment.clientAuth()).isEqualTo(ClientAuth.OPTIONAL);
    }

    @Test
    void clientCertificateSettingsThatCannotWorkAreOneLineAndExitCode2() throws Exception {
        PrivatePki pki = PrivatePki.create(dir, List.of("localhost"), Validity.fromNow(Duration.ofDays(1)),
                KeyFormat.PKCS8);
        String[] tls = {"--tls-cert", pki.certificate().toString(), "--tls-key", pki.key().toString(),
                "--store", "sqlite:" + dir.resolve("mesures.db"), "--http-port", "-1", "--port", "0",
                "--tls-port", "0"};

        Run requiredWithoutCa = run(concat(tls, "--tls-client-auth", "required"));
        assertThat(requiredWithoutCa.exitCode()).isEqualTo(2);
        assertThat(requiredWithoutCa.err().lines()).singleElement().asString().isEqualTo(
                "serveur: --tls-client-auth required needs --tls-client-ca, the authorities client certificates"
                        + " must come from");

        Run noneWithCa = run(concat(tls, "--tls-client-auth", "none", "--tls-client-ca",
                pki.authority().toString()));
        assertThat(noneWithCa.exitCode()).isEqualTo(2);
        assertThat(noneWithCa.err().lines()).singleElement().asString().startsWith(
                "serveur: --tls-client-ca is given but --tls-client-auth is none");

        Run unknownMode = run(concat(tls, "--tls-client-auth", "maybe"));
        assertThat(unknownMode.exitCode()).isEqualTo(2);
        assertThat(unknownMode.err().lines()).singleElement().asString().contains("--tls-client-auth",
                "'maybe' is not a client authentication mode (none, optional or required)");

        Run caWithoutTls = run("--tls-client-ca", pki.authority().toString(), "--store",
                "sqlite:" + dir.resolve("mesures.db"), "--http-port", "-1");
        assertThat(caWithoutTls.exitCode()).isEqualTo(2);
        assertThat(caWithoutTls.err().lines()).singleElement().asString().isEqualTo(
                "serveur: --tls-client-ca and --tls-client-auth need --tls-cert and --tls-key");

        Path missing = dir.resolve("absent-ca.pem");
        Run missingCa = run(concat(tls, "--tls-client-ca", missing.toString()));
        assertThat(missingCa.exitCode()).isEqualTo(2);
        assertThat(missingCa.err().lines()).singleElement().asString().startsWith("serveur: " + missing);
        assertThat(dir.resolve("mesures.db")).as("nothing opened before the TLS files were read").doesNotExist();
    }

    private static String[] concat(String[] first, String... more) {
        String[] all = Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }

    @Test
    void helpListsEveryFlagWithItsEnvironmentVariable() {
        Run run = run("--help");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("--port", "SERVEUR_PORT", "--http-port", "--bind", "--store", "SERVEUR_STORE",
                "--max-connections", "--idle-timeout", "--max-message-bytes", "--workers", "--tls-port",
                "SERVEUR_TLS_CERT", "--tls-key", "--tls-handshake-timeout", "--http-tls-cert", "SERVEUR_HTTP_TLS_CERT",
                "--http-tls-key", "SERVEUR_HTTP_TLS_KEY", "--http-token-file", "SERVEUR_HTTP_TOKEN_FILE",
                "--tls-client-ca", "SERVEUR_TLS_CLIENT_CA", "--tls-client-auth", "SERVEUR_TLS_CLIENT_AUTH",
                "--credentials", "SERVEUR_CREDENTIALS", "--[no-]require-auth", "--allow-plaintext-auth");
    }

    @Test
    void theEnvironmentSetsOptionsBlankVariablesKeepTheDefaultsAndFlagsWin() {
        Main main = new Main(Map.of(
                "SERVEUR_PORT", "6060",
                "SERVEUR_IDLE_TIMEOUT", "30s",
                "SERVEUR_SQLITE_SYNCHRONOUS", "NORMAL",
                "SERVEUR_MAX_BATCH", "",
                "SERVEUR_STORE", "  ",
                "SERVEUR_HTTP_PORT", "9090"));
        Main.commandLine(main).parseArgs("--http-port", "-1");

        assertThat(main.port).isEqualTo(6060);
        assertThat(main.idleTimeout).isEqualTo(Duration.ofSeconds(30));
        assertThat(main.sqliteSynchronous).isEqualTo("NORMAL");
        assertThat(main.maxBatch).isEqualTo(25_000);
        assertThat(main.store).isEqualTo("sqlite:data/mesures.db");
        assertThat(main.httpPort).isEqualTo(-1);
    }

    @Test
    void aBadValueFromTheEnvironmentIsOneLineAndExitCode2() {
        var err = new StringWriter();
        CommandLine cli = Main.commandLine(new Main(Map.of("SERVEUR_PORT", "fifty")));
        cli.setErr(new PrintWriter(err, true));
        assertThat(cli.execute()).isEqualTo(2);
        assertThat(err.toString().lines()).singleElement().asString().contains("--port").contains("fifty");
    }
}
