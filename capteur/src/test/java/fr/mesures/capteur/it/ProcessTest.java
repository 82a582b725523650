package fr.mesures.capteur.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The capteur as its own process, as a person or a container runs it: standard input, SIGTERM, exit codes. */
class ProcessTest {

    @TempDir
    Path dir;

    private Process capteur(Path log, String... args) throws IOException {
        List<String> arguments = new ArrayList<>(List.of(
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), "fr.mesures.capteur.cli.Main"));
        arguments.addAll(List.of(args));
        return Java.start(log, Map.of("CAPTEUR_TEST_LOG_LEVEL", "INFO"), arguments);
    }

    @Test
    @Timeout(60)
    void typedTemperaturesAreSentAsTheyAreTypedAndTheEndOfInputEndsTheRun() throws Exception {
        try (var server = InProcessServer.start(dir.resolve("mesures.db"))) {
            Process process = capteur(dir.resolve("capteur.log"), "--server", server.address(), "--id", "clavier",
                    "--source", "stdin");
            try {
                OutputStream typing = process.getOutputStream();
                typing.write("21.5\n".getBytes(StandardCharsets.UTF_8));
                typing.flush();
                // Stored while the person is still at the keyboard, not at the end.
                await().atMost(Duration.ofSeconds(20)).until(() -> server.mesures().count() == 1);

                typing.write("22,5\nnot a number\n\n-300\n-3\n".getBytes(StandardCharsets.UTF_8));
                typing.close(); // Ctrl-D

                assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
                // Exit 0: -300 was not sent to be rejected by the server, it was reported and skipped here.
                assertThat(process.exitValue()).isZero();
                assertThat(server.mesures().temperatures("clavier")).containsExactly(21.5, 22.5, -3.0);
                assertThat(Files.readString(dir.resolve("capteur.log")))
                        .contains("'not a number' is not a temperature", "-300.0 is below absolute zero");
            } finally {
                process.destroyForcibly();
            }
        }
    }

    @Test
    @Timeout(60)
    void sigtermStopsMeasuringAndEveryReadingMadeIsStoredBeforeTheProcessEnds() throws Exception {
        try (var server = InProcessServer.start(dir.resolve("mesures.db"))) {
            Path log = dir.resolve("capteur.log");
            Process process = capteur(log, "--server", server.address(), "--id", "term", "--sensors", "4",
                    "--interval", "5ms");
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> server.mesures().count() >= 200);
                process.destroy(); // SIGTERM
                assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();

                String output = Files.readString(log);
                Matcher done = Pattern.compile("done: (\\d+) readings made, all acknowledged").matcher(output);
                assertThat(done.find()).as(output).isTrue();
                assertThat(server.mesures().count()).isEqualTo(Long.parseLong(done.group(1)));
            } finally {
                process.destroyForcibly();
            }
        }
    }

    @Test
    @Timeout(60)
    void givingUpExits1WhenTheServerNeverComes() throws Exception {
        int port = ServerProcess.freePort();
        Process process = capteur(dir.resolve("capteur.log"), "--server", "127.0.0.1:" + port, "--id", "seul",
                "--count", "3", "--interval", "10ms", "--give-up-after", "2s", "--max-backoff", "200ms");
        try {
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).isEqualTo(1);
            assertThat(Files.readString(dir.resolve("capteur.log"))).contains("giving up");
        } finally {
            process.destroyForcibly();
        }
    }
}
