package fr.mesures.protocole;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReadingTest {

    @Test
    void itsJsonDecodesBackToTheSameReading() {
        var reading = new Reading("capteur_1", -12.25, 1764000000123L);
        byte[] line = reading.toJson().getBytes(StandardCharsets.UTF_8);
        var sink = new ReadingDecoderTest.Collected();
        new ReadingDecoder(ReadingRules.DEFAULT).decode(line, 0, line.length - 1, sink);
        assertThat(sink.readings).containsExactly(reading);
        assertThat(reading.toJson()).endsWith("}\n");
    }

    @Test
    void refusesWhatTheProtocolRefuses() {
        assertThatThrownBy(() -> new Reading("a b", 1, 0)).hasMessageContaining("capteur_id");
        assertThatThrownBy(() -> new Reading("a", Double.NaN, 0)).hasMessageContaining("finite");
        assertThatThrownBy(() -> new Reading("a", 1, -5)).hasMessageContaining("timestamp");
        assertThat(new Reading("a", 1, Reading.NO_TIMESTAMP).toJson()).doesNotContain("timestamp");
    }

    @Test
    void identifiersFollowTheRule() {
        assertThat(CapteurIds.isValid("Salle-1.capteur_2:nord")).isTrue();
        assertThat(CapteurIds.isValid("x".repeat(64))).isTrue();
        assertThat(CapteurIds.isValid("x".repeat(65))).isFalse();
        assertThat(CapteurIds.isValid("")).isFalse();
        assertThat(CapteurIds.isValid("a/b")).isFalse();
    }

    @Test
    void isoTimesAlwaysHaveMillisecondsAndZ() {
        assertThat(Timestamps.formatIso(0)).isEqualTo("1970-01-01T00:00:00.000Z");
        assertThat(Timestamps.formatIso(Timestamps.MAX)).isEqualTo("9999-12-31T23:59:59.999Z");
    }

    @Test
    void durationsReadTheWayPeopleTypeThem() {
        assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse("1s")).isEqualTo(Duration.ofSeconds(1));
        assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parse("PT2H")).isEqualTo(Duration.ofHours(2));
        assertThat(Durations.parse("0")).isEqualTo(Duration.ZERO);
        assertThatThrownBy(() -> Durations.parse("soon")).hasMessageContaining("not a duration");
    }
}
