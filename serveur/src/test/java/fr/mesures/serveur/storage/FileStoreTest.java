package fr.mesures.serveur.storage;

import static fr.mesures.serveur.storage.Blocks.block;
import static fr.mesures.serveur.storage.Blocks.outcomes;
import static fr.mesures.serveur.storage.ReadingBlock.Outcome.CONFLICT;
import static fr.mesures.serveur.storage.ReadingBlock.Outcome.DUPLICATE;
import static fr.mesures.serveur.storage.ReadingBlock.Outcome.PENDING;
import static fr.mesures.serveur.storage.ReadingBlock.Outcome.STORED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.protocole.ReadingDecoder;
import fr.mesures.protocole.ReadingRules;
import fr.mesures.protocole.RejectReason;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileStoreTest {

    @TempDir
    Path dir;

    private FailingChannel disk;

    /** The file's lines as "sensor@timestamp=temperature", each checked to be a whole reading. */
    private static List<String> readings(Path file) throws Exception {
        var decoder = new ReadingDecoder(ReadingRules.DEFAULT);
        var readings = new ArrayList<String>();
        for (String line : Files.readAllLines(file)) {
            byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
            decoder.decode(bytes, 0, bytes.length, new ReadingDecoder.Sink() {
                @Override
                public void reading(String capteurId, double temperature, long timestamp) {
                    readings.add(capteurId + "@" + timestamp + "=" + temperature);
                }

                @Override
                public void rejected(int element, RejectReason reason, String message) {
                    throw new AssertionError("not a whole reading: " + line + ": " + message);
                }
            });
        }
        return readings;
    }

    /** A store whose disk the test can make fail ({@link #disk}). */
    private FileStore openOnFailingDisk(Path file) throws StoreException {
        return FileStore.open(file, 1000, p -> disk = new FailingChannel(FileChannel.open(p,
                StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)));
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

    /** The keys are read back from the file in chunks: lines across a chunk's end must be remembered too. */
    @Test
    void everyRememberedKeyIsReadBackAcrossTheChunksOfALargeTail() throws Exception {
        Path file = dir.resolve("donnees.txt");
        int readings = 5_000;
        var block = new ReadingBlock(readings);
        block.receivedAt(10);
        for (int i = 0; i < readings; i++) {
            block.add("capteur_" + i % 7, i / 10.0, 1_764_000_000_000L + i);
        }
        try (var store = FileStore.open(file, readings)) {
            assertThat(store.write(List.of(block))).isEqualTo(readings);
        }
        assertThat(Files.size(file)).as("several chunks of 64 KiB").isGreaterThan(4 * 64 * 1024);
        try (var store = FileStore.open(file, readings)) {
            block.resetOutcomes();
            assertThat(store.write(List.of(block))).isZero();
            assertThat(outcomes(block)).containsOnly(ReadingBlock.Outcome.DUPLICATE);
        }
        assertThat(Files.readAllLines(file)).hasSize(readings);
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
    void aKeyAlreadyWrittenIsADuplicateWithTheSameTemperatureAndAConflictWithAnother() throws Exception {
        Path file = dir.resolve("donnees.txt");
        try (var store = FileStore.open(file, 1000)) {
            var first = block(10, "a", 1.5, 100L, "a", 1.5, 100L, "a", 9.0, 100L, "b", 2.5, 100L);
            var second = block(11, "b", 2.5, 100L, "b", -2.5, 100L);
            assertThat(store.write(List.of(first, second))).isEqualTo(2);
            assertThat(outcomes(first)).containsExactly(STORED, DUPLICATE, CONFLICT, STORED);
            assertThat(first.storedTemperature(2)).isEqualTo(1.5);
            assertThat(outcomes(second)).containsExactly(DUPLICATE, CONFLICT);
            assertThat(second.storedTemperature(1)).isEqualTo(2.5);

            var again = block(20, "a", 1.5, 100L, "b", 3.0, 100L, "c", 0.5, 100L);
            assertThat(store.write(List.of(again))).isEqualTo(1);
            assertThat(outcomes(again)).containsExactly(DUPLICATE, CONFLICT, STORED);
            assertThat(again.storedTemperature(1)).isEqualTo(2.5);
        }
        // Neither duplicates nor conflicts were written: the stored temperatures are kept.
        assertThat(readings(file)).containsExactly("a@100=1.5", "b@100=2.5", "c@100=0.5");

        // Reopened, the keys and their temperatures come back from the end of the file.
        try (var store = FileStore.open(file, 1000)) {
            var resent = block(30, "a", 1.5, 100L, "b", 7.25, 100L, "c", 0.5, 100L, "c", 0.5, 101L);
            assertThat(store.write(List.of(resent))).isEqualTo(1);
            assertThat(outcomes(resent)).containsExactly(DUPLICATE, CONFLICT, DUPLICATE, STORED);
            assertThat(resent.storedTemperature(1)).isEqualTo(2.5);
        }
        assertThat(readings(file)).containsExactly("a@100=1.5", "b@100=2.5", "c@100=0.5", "c@101=0.5");
    }

    @Test
    void afterAFailedSyncNothingIsAcknowledgedUntilTheFileIsRestoredThenEveryReadingIsWrittenOnce()
            throws Exception {
        Path file = dir.resolve("donnees.txt");
        try (var store = openOnFailingDisk(file)) {
            assertThat(store.write(List.of(block(10, "a", 1.0, 1L)))).isEqualTo(1);

            // The filesystem goes read-only under the write: its fsync fails, and so does cutting the file back.
            var failed = block(20, "b", 2.0, 1L, "b", 3.0, 2L, "a", 1.0, 1L);
            disk.failForce = true;
            disk.failTruncate = true;
            assertThatThrownBy(() -> store.write(List.of(failed))).isInstanceOf(StoreException.class);
            assertThat(outcomes(failed)).containsOnly(PENDING);

            // However the restoring fails, no write goes through: not even one that only repeats synced keys.
            disk.failForce = false;
            for (int attempt = 0; attempt < 3; attempt++) {
                assertThatThrownBy(() -> store.write(List.of(failed))).isInstanceOf(StoreException.class);
                assertThat(outcomes(failed)).containsOnly(PENDING);
            }
            assertThatThrownBy(() -> store.write(List.of(block(21, "a", 1.0, 1L))))
                    .isInstanceOf(StoreException.class);
            disk.failTruncate = false;
            disk.failForce = true;
            assertThatThrownBy(() -> store.write(List.of(failed))).isInstanceOf(StoreException.class);
            disk.failForce = false;
            disk.failRead = true;
            assertThatThrownBy(() -> store.write(List.of(failed))).isInstanceOf(StoreException.class);
            assertThat(outcomes(failed)).containsOnly(PENDING);

            // The disk is back: the failed readings were never stored, so they are written now, each once.
            disk.heal();
            int forces = disk.forces;
            assertThat(store.write(List.of(failed))).isEqualTo(2);
            assertThat(outcomes(failed)).containsExactly(STORED, STORED, DUPLICATE);
            assertThat(disk.forces).as("synced before returning").isGreaterThan(forces);
        }
        assertThat(readings(file)).containsExactly("a@1=1.0", "b@1=2.0", "b@2=3.0");
    }

    @Test
    void aWriteCutShortLeavesNoTornLineAndIsWrittenWholeWhenRetried() throws Exception {
        Path file = dir.resolve("donnees.txt");
        try (var store = openOnFailingDisk(file)) {
            assertThat(store.write(List.of(block(10, "a", 1.0, 1L)))).isEqualTo(1);
            var failed = block(20, "b", 2.0, 1L, "b", 3.0, 2L, "c", 4.0, 1L);
            disk.tearWrite = true;
            assertThatThrownBy(() -> store.write(List.of(failed))).isInstanceOf(StoreException.class);
            disk.heal();
            // A shorter write next, so that nothing of the torn one can hide under it.
            assertThat(store.write(List.of(block(30, "d", 5.0, 1L)))).isEqualTo(1);
            assertThat(readings(file)).containsExactly("a@1=1.0", "d@1=5.0");
            assertThat(store.write(List.of(failed))).isEqualTo(3);
            assertThat(outcomes(failed)).containsOnly(STORED);
        }
        assertThat(readings(file)).containsExactly("a@1=1.0", "d@1=5.0", "b@1=2.0", "b@2=3.0", "c@1=4.0");
    }

    @Test
    void closingAfterAFailedWriteLeavesOutItsUnsyncedLines() throws Exception {
        Path file = dir.resolve("donnees.txt");
        try (var store = openOnFailingDisk(file)) {
            assertThat(store.write(List.of(block(10, "a", 1.0, 1L)))).isEqualTo(1);
            disk.failForce = true;
            assertThatThrownBy(() -> store.write(List.of(block(20, "b", 2.0, 1L))))
                    .isInstanceOf(StoreException.class);
            disk.heal();
        }
        assertThat(readings(file)).containsExactly("a@1=1.0");
        // Never acknowledged, so its resend is stored, not taken for a duplicate of a line that was never synced.
        try (var store = FileStore.open(file, 1000)) {
            assertThat(store.write(List.of(block(30, "b", 2.0, 1L)))).isEqualTo(1);
        }
        assertThat(readings(file)).containsExactly("a@1=1.0", "b@1=2.0");
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
