package fr.mesures.common.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The pieces both command lines are made of, on a small command of their own. */
class CommandLinePartsTest {

    @Command(name = "essai", mixinStandardHelpOptions = true)
    static final class Essai implements Callable<Integer> {
        @Option(names = "--max-batch", defaultValue = "7")
        int maxBatch;

        @Option(names = "--tls")
        boolean tls;

        @Option(names = "--pause", converter = DurationConverter.class, defaultValue = "1s")
        Duration pause;

        @Override
        public Integer call() {
            return 0;
        }
    }

    private record Run(int code, Essai command, String out, String err) {
    }

    private static Run run(Map<String, String> environment, String... args) {
        Essai command = new Essai();
        CommandLine cl = new CommandLine(command);
        cl.setDefaultValueProvider(new EnvironmentDefaults("ESSAI", environment));
        cl.setParameterExceptionHandler(BadUsage.handler("essai"));
        var out = new StringWriter();
        var err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, command, out.toString(), err.toString());
    }

    @Test
    void optionsTakeTheirDefaultsFromTheEnvironmentAndTheCommandLineWins() {
        Run fromEnvironment = run(Map.of("ESSAI_MAX_BATCH", " 12 ", "ESSAI_TLS", "true", "ESSAI_PAUSE", "250ms"));
        assertThat(fromEnvironment.code()).isZero();
        assertThat(fromEnvironment.command().maxBatch).isEqualTo(12);
        assertThat(fromEnvironment.command().tls).isTrue();
        assertThat(fromEnvironment.command().pause).isEqualTo(Duration.ofMillis(250));

        assertThat(run(Map.of("ESSAI_MAX_BATCH", "12"), "--max-batch", "3").command().maxBatch).isEqualTo(3);
    }

    @Test
    void aBlankVariableLeavesTheOptionsOwnDefault() {
        Run run = run(Map.of("ESSAI_MAX_BATCH", "  ", "ESSAI_PAUSE", ""));
        assertThat(run.command().maxBatch).isEqualTo(7);
        assertThat(run.command().pause).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void helpAndVersionTakeNothingFromTheEnvironment() {
        Run run = run(Map.of("ESSAI_HELP", "true", "ESSAI_VERSION", "true"));
        assertThat(run.code()).isZero();
        assertThat(run.out()).isEmpty();
    }

    @Test
    void variablesAreNamedAfterTheLongestName() {
        assertThat(new EnvironmentDefaults("CAPTEUR", Map.of()).variable("--tls-ca")).isEqualTo("CAPTEUR_TLS_CA");
    }

    @Test
    void aBadCommandLineIsOneLineOnStandardErrorAndExitCode2() {
        for (Run run : new Run[] {run(Map.of(), "--bogus"), run(Map.of(), "--pause", "fast"),
            run(Map.of("ESSAI_MAX_BATCH", "many")), run(Map.of(), "--max-batch")}) {
            assertThat(run.code()).isEqualTo(BadUsage.EXIT_CODE).isEqualTo(2);
            assertThat(run.err().lines()).singleElement().asString().startsWith("essai: ").endsWith(" (see --help)");
            assertThat(run.out()).isEmpty();
        }
        assertThat(BadUsage.line("essai", "first\n  second\r\nthird ")).isEqualTo("essai: first second third (see --help)");
    }

    @Test
    void durationsAreReadAsPeopleWriteThem() {
        assertThat(DurationConverter.parse("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(DurationConverter.parse("1s")).isEqualTo(Duration.ofSeconds(1));
        assertThat(DurationConverter.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(DurationConverter.parse("2h")).isEqualTo(Duration.ofHours(2));
        assertThat(DurationConverter.parse("0")).isEqualTo(Duration.ZERO);
        assertThat(DurationConverter.parse("PT1.5S")).isEqualTo(Duration.ofMillis(1500));
        for (String bad : new String[] {"1", "-1s", "1 day", "s", "PT-1S", ""}) {
            assertThatThrownBy(() -> DurationConverter.parse(bad)).as(bad)
                    .isInstanceOf(CommandLine.TypeConversionException.class);
        }
    }
}
