package fr.mesures.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DemoCommandTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void runsServerAndSensorsTellsWhereTheDataIsAndStopsWithEveryReadingStored() throws Exception {
        Path db = dir.resolve("mesures.db");
        CommandLine cl = DemoCommand.commandLine();
        var out = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        int code = cl.execute("--port", "0", "--http-port", "0", "--sensors", "3", "--interval", "100ms",
                "--status-every", "1s", "--run-for", "3s", "--store", "sqlite:" + db);

        String text = out.toString();
        assertThat(code).as(text).isZero();
        assertThat(text).contains("storing readings in " + db, "mesures_lisibles", "/metrics",
                "capteur_1 .. capteur_3", "a reading every 100ms.", "readings stored");
        Matcher stopped = Pattern.compile("Stopped: ([\\d,]+) readings stored").matcher(text);
        assertThat(stopped.find()).as(text).isTrue();
        long reported = Long.parseLong(stopped.group(1).replace(",", ""));
        assertThat(reported).isGreaterThan(30);
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db);
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT count(*), count(DISTINCT capteur_id) FROM mesures_lisibles")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(reported);
            assertThat(rs.getLong(2)).isEqualTo(3);
        }
    }

    @Test
    @Timeout(10)
    void aBadFlagIsOneLineAndExitCode2() {
        CommandLine cl = DemoCommand.commandLine();
        var err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        assertThat(cl.execute("--sensors", "lots")).isEqualTo(2);
        assertThat(err.toString().lines()).hasSize(1);
    }

    @Test
    @Timeout(10)
    void aValueTheServersSettingsRefuseIsOneLineAndExitCode2() {
        CommandLine cl = DemoCommand.commandLine();
        var out = new StringWriter();
        var err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("--port", "0", "--http-port", "-5", "--run-for", "1s",
                "--store", "sqlite:" + dir.resolve("mesures.db"));

        assertThat(code).as(err.toString()).isEqualTo(2);
        assertThat(err.toString().lines()).hasSize(1);
        assertThat(err.toString()).startsWith("demo: ").contains("HTTP port");
        assertThat(out.toString()).isEmpty();
    }
}
