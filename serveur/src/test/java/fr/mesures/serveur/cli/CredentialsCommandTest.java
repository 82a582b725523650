package fr.mesures.serveur.cli;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.serveur.auth.Credentials;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CredentialsCommandTest {

    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private Run run(String... args) {
        CommandLine cli = Main.commandLine(new Main(Map.of("SERVEUR_NAME", "from-environment")));
        var out = new StringWriter();
        var err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void addPrintsTheTokenOnceListShowsNoSecretRevokeRemoves() throws Exception {
        Path file = dir.resolve("credentials");
        Run added = run("credentials", "add", "--pattern", "salle_*", "--name", "salle", file.toString());
        assertThat(added.code()).isZero();
        String token = added.out().strip();
        assertThat(token).hasSize(43);
        assertThat(added.err()).contains("shown once");
        assertThat(Credentials.read(file).forToken(token)).isPresent();

        run("credentials", "add", "--pattern", "nord_*", "--name", "gw", "--certificate", "passerelle", file.toString());
        Run listed = run("credentials", "list", file.toString());
        assertThat(listed.code()).isZero();
        assertThat(listed.out()).contains("salle").contains("token").contains("salle_*")
                .contains("certificate passerelle").contains("nord_*").doesNotContain(token)
                .doesNotContain(Credentials.digest(token));

        Run revoked = run("credentials", "revoke", "salle", file.toString());
        assertThat(revoked.code()).isZero();
        assertThat(revoked.out()).contains("revoked salle");
        assertThat(Credentials.read(file).forToken(token)).isEmpty();
    }

    @Test
    void mistakesGiveOneLineAndExitCodeTwo() {
        Path file = dir.resolve("credentials");
        assertThat(run("credentials", "add", "--pattern", "a*b", "--name", "x", file.toString()))
                .satisfies(r -> {
                    assertThat(r.code()).isEqualTo(2);
                    assertThat(r.err()).startsWith("serveur credentials: 'a*b' is not a capteur_id pattern");
                });
        assertThat(run("credentials", "revoke", "nobody", file.toString()).code()).isEqualTo(2);
        assertThat(run("credentials", "add", "--pattern", "*", file.toString()).code())
                .as("the name is required, and not taken from SERVEUR_NAME").isEqualTo(2);
    }
}
