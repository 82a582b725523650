package fr.mesures.protocole;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
            Duration.ofNanos(500), Duration.ofMillis(1).plusNanos(1)};
        for (Duration d : durations) {
            assertThat(Durations.parse(Durations.format(d))).as(d.toString()).isEqualTo(d);
        }
    }

    @Test
    void parseReadsWhatPeopleTypeAndIso() {
        assertThat(Durations.parse(" 250ms ")).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse("5M")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parse("0")).isZero();
        assertThat(Durations.parse("PT1.5S")).isEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void parseRefusesNegativeMalformedAndOverlongDurationsWithAMessageForAPerson() {
        assertThatThrownBy(() -> Durations.parse("PT-5S")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'PT-5S' is negative; a duration here is 0 or more");
        for (String text : new String[] {"soon", "5 minutes", "99999999999999999999s", "9999999999999999d", ""}) {
            assertThatThrownBy(() -> Durations.parse(text)).as(text).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("'" + text + "' is not a duration (examples: 250ms, 1s, 5m, 2h)");
        }
    }
}
