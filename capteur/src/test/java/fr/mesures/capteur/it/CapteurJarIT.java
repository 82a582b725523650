package fr.mesures.capteur.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code java -jar capteur/target/capteur.jar}: the shaded jar on its own, against the real server. */
class CapteurJarIT {

    @TempDir
    Path dir;

    private static Process jar(Path log, Map<String, String> environment, String... args) throws Exception {
        List<String> arguments = new ArrayList<>(List.of(
                "-jar", Path.of("target", "capteur.jar").toAbsolutePath().toString()));
        arguments.addAll(List.of(args));
        return Java.start(log, environment, arguments);
    }

    @Test
    @Timeout(60)
    void theJarDeliversItsReadingsAndExits0() throws Exception {
        try (var server = InProcessServer.start(dir.resolve("mesures.db"))) {
            Path log = dir.resolve("capteur.log");
            Process process = jar(log, Map.of(), "--server", server.address(), "--id", "jar", "--sensors", "3",
                    "--count", "10", "--interval", "20ms");
            try {
                assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
                String output = Files.readString(log);
                assertThat(process.exitValue()).as(output).isZero();
                assertThat(output).contains("done: 30 readings made, all acknowledged");
                assertThat(server.mesures().count()).isEqualTo(30);
            } finally {
                process.destroyForcibly();
            }
        }
    }

    @Test
    @Timeout(30)
    void theEnvironmentConfiguresItAndABadValueIsOneLineAndExitCode2() throws Exception {
        Path log = dir.resolve("bad.log");
        Process process = jar(log, Map.of("CAPTEUR_INTERVAL", "soon"));
        try {
            assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).isEqualTo(2);
            assertThat(Files.readAllLines(log)).hasSize(1).first().asString().contains("soon");
        } finally {
            process.destroyForcibly();
        }
    }
}
