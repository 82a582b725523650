package fr.mesures.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code java -jar demo/target/demo.jar}, the README's first command, from a fresh working directory. */
class DemoJarIT {

    @TempDir
    Path workDir;

    @Test
    @Timeout(90)
    void theShadedJarStartsServerAndSensorsAndStoresIntoDataMesuresDb() throws Exception {
        Path jar = Path.of("target", "demo.jar").toAbsolutePath();
        Path log = workDir.resolve("demo.log");
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString(), "--port", "0", "--http-port", "0", "--interval", "200ms",
                "--status-every", "1s", "--run-for", "4s")
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String output = Files.readString(log);
            assertThat(process.exitValue()).as(output).isZero();
            assertThat(output).contains("data/mesures.db", "mesures_lisibles", "readings stored", "Stopped:");
            Path db = workDir.resolve("data/mesures.db");
            try (var c = DriverManager.getConnection("jdbc:sqlite:" + db);
                 ResultSet rs = c.createStatement().executeQuery(
                         "SELECT count(*), count(DISTINCT capteur_id) FROM mesures_lisibles")) {
                rs.next();
                assertThat(rs.getLong(1)).isGreaterThan(20);
                assertThat(rs.getLong(2)).isEqualTo(5);
            }
        } finally {
            process.destroyForcibly();
        }
    }
}
