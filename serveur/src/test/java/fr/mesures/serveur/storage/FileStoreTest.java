package fr.mesures.serveur.storage;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.protocole.ReadingDecoder;
import fr.mesures.protocole.ReadingRules;
import fr.mesures.protocole.RejectReason;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileStoreTest {

    @TempDir
    Path dir;

    private static ReadingBlock block(long receivedAt, Object... idTemperatureTimestamp) {
        var block = new ReadingBlock(4);
        block.receivedAt(receivedAt);
        for (int i = 0; i < idTemperatureTimestamp.length; i += 3) {
            block.add((String) idTemperatureTimestamp[i], ((Number) idTemperatureTimestamp[i + 1]).doubleValue(),
                    ((Number) idTemperatureTimestamp[i + 2]).longValue());
        }
        return block;
    }

    @Test
    void writesOneJsonLinePerReadingWithIsoTimes() throws Exception {
        Path file = dir.resolve("donnees.txt");
        try (var store = FileStore.open(file, 1000)) {
            assertThat(store.write(List.of(block(1_764_000_000_500L, "capteur_1", 23.5, 1_764_000_000_123L,
                    "capteur_2", -4.25, 0L)))).isEqualTo(2);
        }
        assertThat(Files.readAllLines(file)).containsExactly(
                "{\"capteur_id\":\"capteur_1\",\"temperature\":23.5,\"timestamp\":\"2025-11-24T16:00:00.123Z\","
                        + "\"received_at\":\"2025-11-24T16:00:00.500Z\"}",
                "{\"capteur_id\":\"capteur_2\",\"temperature\":-4.25,\"timestamp\":\"1970-01-01T00:00:00.000Z\","
                        + "\"received_at\":\"2025-11-24T16:00:00.500Z\"}");
    }

    @Test
    void aResentReadingIsWrittenOnceEvenAfterARestart() throws Exception {
        Path file = dir.resolve("donnees.txt");
        try (var store = FileStore.open(file, 1000)) {
            assertThat(store.write(List.of(block(10, "a", 1, 100L, "a", 1, 100L, "b", 2, 100L)))).isEqualTo(2);
            assertThat(store.write(List.of(block(20, "a", 1, 100L)))).isZero();
        }
        try (var store = FileStore.open(file, 1000)) {
            assertThat(store.write(List.of(block(30, "b", 2, 100L, "b", 2, 101L)))).isEqualTo(1);
        }
        assertThat(Files.readAllLines(file)).hasSize(3);
    }

    @Test
    void aLineCutByACrashIsRemovedAtStart() throws Exception {
        Path file = dir.resolve("donnees.txt");
        try (var store = FileStore.open(file, 1000)) {
            store.write(List.of(block(10, "a", 1, 1L)));
        }
        Files.writeString(file, "{\"capteur_id\":\"a\",\"temperat", StandardOpenOption.APPEND);
        try (var store = FileStore.open(file, 1000)) {
            store.write(List.of(block(10, "a", 1, 2L)));
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        // Every line is a reading the decoder accepts: the file stays valid NDJSON.
        var decoder = new ReadingDecoder(ReadingRules.DEFAULT);
        for (String line : lines) {
            byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
            decoder.decode(bytes, 0, bytes.length, new ReadingDecoder.Sink() {
                @Override
                public void reading(String capteurId, double temperature, long timestamp) {
                }

                @Override
                public void rejected(int element, RejectReason reason, String message) {
                    throw new AssertionError(message);
                }
            });
        }
    }

    @Test
    void isoTimesAreRightAcrossMinutesAndForTheWholeRange() {
        var times = new UtcMillis();
        byte[] out = new byte[UtcMillis.LENGTH];
        for (long millis : new long[] {0, 59_999, 60_000, 1_764_000_000_123L, 1_764_000_059_999L,
                1_764_000_060_000L, fr.mesures.protocole.Timestamps.MAX}) {
            times.write(millis, out, 0);
            assertThat(new String(out, StandardCharsets.US_ASCII))
                    .isEqualTo(fr.mesures.protocole.Timestamps.formatIso(millis));
        }
    }
}
