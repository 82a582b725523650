package fr.mesures.capteur.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

@Timeout(10)
class BadUsageTest {

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        // No environment: a CAPTEUR_* variable of the machine running the tests must not change the outcome.
        CommandLine cl = CapteurCommand.commandLine(new CapteurCommand(InputStream.nullInputStream(), Map.of()));
        var out = new StringWriter();
        var err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "--bogus",
        "--interval=fast",
        "--interval=-1s",
        "--server=localhost:99999",
        "--sensors=0",
        "--sensors=many",
        "--count=-3",
        "--source=random",
        "--source=replay:/no/such/file.csv",
        "--source=stdin --sensors=2",
        "--id=bad id",
        "--max-unacked=0",
        "--give-up-after=0",
        "--connect-timeout=0",
        "--ack-timeout=0",
        "--max-backoff=0",
        "extra-argument"
    })
    void aBadCommandLineIsOneLineOnStandardErrorAndExitCode2(String args) {
        Run run = run(args.split(" "));
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().lines()).hasSize(1);
        assertThat(run.err()).startsWith("capteur: ").contains("--help");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void withoutIdTheSensorIsNamedAfterTheHostNameOfItsEnvironment() {
        var command = new CapteurCommand(InputStream.nullInputStream(), Map.of("HOSTNAME", " serre-3 "));
        assertThat(command.hostName()).isEqualTo("serre-3");
    }

    @Test
    void helpListsEveryOptionWithItsEnvironmentVariableAndExits0() {
        Run run = run("--help");
        assertThat(run.exitCode()).isZero();
        for (String option : new String[] {"--server", "--id", "--interval", "--count", "--give-up-after",
            "--sensors", "--source", "--seed", "--max-unacked"}) {
            assertThat(run.out()).contains(option);
        }
        assertThat(run.out()).contains("CAPTEUR_SERVER", "CAPTEUR_INTERVAL", "CAPTEUR_SENSORS", "(default: 1s)");
    }
}
