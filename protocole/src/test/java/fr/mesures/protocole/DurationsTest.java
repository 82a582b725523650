package fr.mesures.protocole;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void formatWritesTheLargestExactUnit() {
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0");
        assertThat(Durations.format(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(Durations.format(Duration.ofSeconds(1))).isEqualTo("1s");
        assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
        assertThat(Durations.format(Duration.ofMinutes(5))).isEqualTo("5m");
        assertThat(Durations.format(Duration.ofHours(2))).isEqualTo("2h");
        assertThat(Durations.format(Duration.ofDays(3))).isEqualTo("3d");
    }

    @Test
    void whatFormatWritesParseReadsBackAsTheSameDuration() {
        Duration[] durations = {Duration.ZERO, Duration.ofMillis(1), Duration.ofMillis(999), Duration.ofSeconds(59),
            Duration.ofSeconds(61), Duration.ofMinutes(90), Duration.ofHours(25), Duration.ofDays(400),
            Duration.ofNanos(500), Duration.ofMillis(1).plusNanos(1), Duration.ofSeconds(-1)};
        for (Duration d : durations) {
            assertThat(Durations.parse(Durations.format(d))).as(d.toString()).isEqualTo(d);
        }
    }
}
