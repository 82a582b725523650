package fr.mesures.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.utility.MountableFile;

/**
 * deploy/prometheus as Prometheus reads it: promtool, from the same image as docker-compose.yml, checks the
 * configuration and the rules and runs the rules' unit tests (alerts.test.yml), where each alert must fire on the
 * series meant to trigger it and stay quiet on healthy ones.
 */
@RequiresDocker
@Timeout(value = 3, unit = java.util.concurrent.TimeUnit.MINUTES)
class PrometheusConfigIT {

    /** The compose file's own, so that its Prometheus is the one that reads these files here. */
    private static final String IMAGE = Repository.composeImage("prometheus");

    @Test
    void configurationIsValidAndLoadsTheRules() {
        assertThat(promtool("check", "config", "/etc/prometheus/prometheus.yml"))
                .contains("SUCCESS: 1 rule files found")
                .contains("prometheus.yml is valid");
    }

    @Test
    void rulesAreValid() {
        assertThat(promtool("check", "rules", "/etc/prometheus/alerts.yml")).containsPattern("SUCCESS: \\d+ rules found");
    }

    @Test
    void alertsFireOnTheSeriesMeantToTriggerThem() {
        assertThat(promtool("test", "rules", "/etc/prometheus/alerts.test.yml")).contains("SUCCESS");
    }

    /** Runs promtool on the files of deploy/prometheus; the container must exit 0. Returns what it printed. */
    private static String promtool(String... arguments) {
        Path files = Repository.root().resolve("deploy/prometheus");
        try (var promtool = new GenericContainer<>(IMAGE)
                .withCreateContainerCmdModifier(create -> create.withEntrypoint("promtool"))
                .withCommand(arguments)
                .withCopyFileToContainer(file(files, "prometheus.yml"), "/etc/prometheus/prometheus.yml")
                .withCopyFileToContainer(file(files, "alerts.yml"), "/etc/prometheus/alerts.yml")
                .withCopyFileToContainer(file(files, "alerts.test.yml"), "/etc/prometheus/alerts.test.yml")
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofMinutes(1)))) {
            promtool.start(); // fails, with promtool's output in the log, unless it exits 0
            return promtool.getLogs();
        }
    }

    private static MountableFile file(Path folder, String name) {
        return MountableFile.forHostPath(folder.resolve(name), 0644);
    }
}
