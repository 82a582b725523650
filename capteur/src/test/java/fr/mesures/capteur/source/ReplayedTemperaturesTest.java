package fr.mesures.capteur.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.protocole.Reading;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayedTemperaturesTest {

    @TempDir
    Path dir;

    private List<Sample> replay(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content);
        List<Sample> samples = new ArrayList<>();
        try (var source = ReplayedTemperatures.open(file)) {
            Sample s;
            while ((s = source.poll(0)) != null) {
                samples.add(s);
            }
            assertThat(source.ended()).isTrue();
        }
        return samples;
    }

    @Test
    void csvWithAHeaderReadsTemperaturesAndTimesInEitherForm() throws IOException {
        assertThat(replay("a.csv", """
                # a comment
                timestamp,capteur_id,temperature
                1764000000000,ignored,21.5
                2025-11-24T16:00:01.500Z,ignored,-3

                1764000002000,ignored,not-a-number
                1764000003000,ignored,-300
                ,ignored,22.25
                """)).containsExactly(
                new Sample(21.5, 1_764_000_000_000L),
                new Sample(-3.0, 1_764_000_001_500L),
                new Sample(22.25, Reading.NO_TIMESTAMP));
    }

    @Test
    void aSingleColumnWithoutHeaderIsAListOfTemperatures() throws IOException {
        assertThat(replay("b.csv", "20.5\n21\n\n-1.25\n"))
                .containsExactly(Sample.of(20.5), Sample.of(21.0), Sample.of(-1.25));
    }

    @Test
    void semicolonsAllowTheFrenchDecimalComma() throws IOException {
        assertThat(replay("c.csv", "temperature;timestamp\n23,5;1764000000000\n\"24,75\";1764000001000\n"))
                .containsExactly(new Sample(23.5, 1_764_000_000_000L), new Sample(24.75, 1_764_000_001_000L));
    }

    @Test
    void ndjsonReadsReadingsAndBatchesAndSkipsWhatTheServerWouldRefuse() throws IOException {
        assertThat(replay("d.ndjson", """
                {"capteur_id": "x", "temperature": 23.5, "timestamp": 1764000000123}
                [{"capteur_id": "x", "temperature": 24}, {"capteur_id": "x", "temperature": "hot"}]
                {"capteur_id": "x", "temperature": 25, "timestamp": "2025-11-24T16:00:00Z"}
                not json
                {"capteur_id": "x", "temperature": -300}
                {"capteur_id": "x", "temperature": 1500}
                """)).containsExactly(
                new Sample(23.5, 1_764_000_000_123L),
                Sample.of(24.0),
                new Sample(25.0, 1_764_000_000_000L),
                Sample.of(1500.0)); // the server may accept it (--max-temperature): not refused here
    }

    @Test
    void severalColumnsWithoutAHeaderAreRefusedAtOpen() throws IOException {
        Path file = dir.resolve("e.csv");
        Files.writeString(file, "1764000000000,21.5\n");
        assertThatThrownBy(() -> ReplayedTemperatures.open(file))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("header");
    }

    @Test
    void aMissingFileIsRefusedAtOpen() {
        assertThatThrownBy(() -> ReplayedTemperatures.open(dir.resolve("missing.csv")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing.csv");
    }

    @Test
    void anEmptyFileReplaysNothing() throws IOException {
        assertThat(replay("f.csv", "")).isEmpty();
    }
}
