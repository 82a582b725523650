package fr.mesures.serveur.storage;

import static fr.mesures.serveur.storage.Blocks.block;
import static fr.mesures.serveur.storage.Blocks.outcomes;
import static fr.mesures.serveur.storage.ReadingBlock.Outcome.CONFLICT;
import static fr.mesures.serveur.storage.ReadingBlock.Outcome.DUPLICATE;
import static fr.mesures.serveur.storage.ReadingBlock.Outcome.PENDING;
import static fr.mesures.serveur.storage.ReadingBlock.Outcome.STORED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteStoreTest {

    @TempDir
    Path dir;

    /** Every row as "sensor@timestamp=temperature", in key order. */
    private static List<String> rows(Path db) throws Exception {
        var rows = new ArrayList<String>();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db);
                var r = c.createStatement().executeQuery(
                        "SELECT capteur_id, timestamp, temperature FROM mesures ORDER BY 1, 2")) {
            while (r.next()) {
                rows.add(r.getString(1) + "@" + r.getLong(2) + "=" + r.getDouble(3));
            }
        }
        return rows;
    }

    @Test
    void countsNewReadingsAndIgnoresTheOnesAlreadyStored() throws Exception {
        Path db = dir.resolve("mesures.db");
        var block = new ReadingBlock(4);
        block.receivedAt(1_764_000_000_999L);
        block.add("a", 1.5, 1_764_000_000_123L);
        block.add("a", 2.5, 1_764_000_000_124L);
        block.add("a", 9.9, 1_764_000_000_123L);
        try (var store = SqliteStore.open(db, SqliteStore.Options.DEFAULT)) {
            assertThat(store.write(List.of(block))).isEqualTo(2);
            assertThat(outcomes(block)).containsExactly(STORED, STORED, CONFLICT);
            assertThat(store.write(List.of(block))).isZero();
            assertThat(outcomes(block)).containsExactly(DUPLICATE, DUPLICATE, CONFLICT);
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db);
                var r = c.createStatement().executeQuery(
                        "SELECT capteur_id, timestamp, temperature, received_at FROM mesures_lisibles ORDER BY 2")) {
            r.next();
            assertThat(r.getString(2)).isEqualTo("2025-11-24T16:00:00.123Z");
            assertThat(r.getDouble(3)).isEqualTo(1.5);
            assertThat(r.getString(4)).isEqualTo("2025-11-24T16:00:00.999Z");
            r.next();
            assertThat(r.getString(2)).isEqualTo("2025-11-24T16:00:00.124Z");
            assertThat(r.next()).isFalse();
        }
    }

    @Test
    void aKeyAlreadyStoredIsADuplicateWithTheSameTemperatureAndAConflictWithAnother() throws Exception {
        Path db = dir.resolve("mesures.db");
        try (var store = SqliteStore.open(db, SqliteStore.Options.DEFAULT)) {
            // Within one call, across its blocks, in arrival order: the first row of a key is the one stored.
            var first = block(10, "b", 2.5, 100L, "a", 1.5, 100L, "a", 1.5, 100L, "a", 9.0, 100L);
            var second = block(11, "b", -2.5, 100L, "b", 2.5, 100L, "a", 1.5, 101L);
            assertThat(store.write(List.of(first, second))).isEqualTo(3);
            assertThat(outcomes(first)).containsExactly(STORED, STORED, DUPLICATE, CONFLICT);
            assertThat(first.storedTemperature(3)).isEqualTo(1.5);
            assertThat(outcomes(second)).containsExactly(CONFLICT, DUPLICATE, STORED);
            assertThat(second.storedTemperature(0)).isEqualTo(2.5);

            // In a later call.
            var again = block(20, "a", 1.5, 100L, "b", 3.0, 100L, "c", 0.5, 100L, "a", -1.5, 101L);
            assertThat(store.write(List.of(again))).isEqualTo(1);
            assertThat(outcomes(again)).containsExactly(DUPLICATE, CONFLICT, STORED, CONFLICT);
            assertThat(again.storedTemperature(1)).isEqualTo(2.5);
            assertThat(again.storedTemperature(3)).isEqualTo(1.5);
        }
        // The stored temperatures are kept.
        assertThat(rows(db)).containsExactly("a@100=1.5", "a@101=1.5", "b@100=2.5", "c@100=0.5");
    }

    @Test
    void wholeTemperaturesAndMinusZeroResentAreDuplicates() throws Exception {
        // SQLite stores a whole REAL as an integer, and -0.0 as 0: neither may pass for a conflict with itself.
        try (var store = SqliteStore.open(dir.resolve("mesures.db"), SqliteStore.Options.DEFAULT)) {
            var rows = block(10, "a", -0.0, 100L, "a", 20.0, 101L, "a", -7.0, 102L);
            assertThat(store.write(List.of(rows))).isEqualTo(3);
            assertThat(store.write(List.of(rows))).isZero();
            assertThat(outcomes(rows)).containsOnly(DUPLICATE);
        }
    }

    @Test
    void aFailedWriteLeavesNoRowReadingAsStored() throws Exception {
        Path db = dir.resolve("mesures.db");
        var rows = block(10, "a", 1.5, 100L, "b", 2.5, 100L);
        try (var store = SqliteStore.open(db, new SqliteStore.Options("FULL", 10, 8));
                var other = DriverManager.getConnection("jdbc:sqlite:" + db)) {
            assertThat(store.write(List.of(rows))).isEqualTo(2);
            var lock = other.createStatement();
            lock.execute("BEGIN IMMEDIATE");
            assertThatThrownBy(() -> store.write(List.of(rows))).isInstanceOf(StoreException.class);
            assertThat(outcomes(rows)).containsOnly(PENDING);
            lock.execute("ROLLBACK");
            assertThat(store.write(List.of(rows))).isZero();
            assertThat(outcomes(rows)).containsOnly(DUPLICATE);
        }
    }

    @Test
    void opensAnExistingDatabaseWithoutMigratingItTwice() throws Exception {
        Path db = dir.resolve("mesures.db");
        SqliteStore.open(db, SqliteStore.Options.DEFAULT).close();
        SqliteStore.open(db, new SqliteStore.Options("normal", 1000, 8)).close();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db);
                var r = c.createStatement().executeQuery("SELECT count(*) FROM flyway_schema_history")) {
            r.next();
            assertThat(r.getInt(1)).isEqualTo(1);
        }
    }

    @Test
    void refusesAnUnknownSynchronousMode() {
        assertThatThrownBy(() -> new SqliteStore.Options("sometimes", 1, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Started, the store copies its log into the database file on a thread of its own: well below the 1,000 pages
     * at which a commit would do it, the file takes the readings without another commit. Not started, it does not.
     */
    @Test
    void copiesTheLogIntoTheDatabaseFileInTheBackgroundOnceStarted() throws Exception {
        for (boolean started : new boolean[] {false, true}) {
            Path db = dir.resolve("mesures-" + started + ".db");
            try (var store = SqliteStore.open(db, SqliteStore.Options.DEFAULT)) {
                List<Throwable> deaths = new ArrayList<>();
                if (started) {
                    store.start(deaths::add);
                }
                long before = Files.size(db);
                var block = new ReadingBlock(5_000);
                block.receivedAt(1_764_000_000_000L);
                for (int i = 0; i < 5_000; i++) {
                    block.add("capteur_" + (i % 50), 20.5, 1_764_000_000_000L + i);
                }
                store.write(List.of(block));
                assertThat(Files.size(db.resolveSibling(db.getFileName() + "-wal"))).isGreaterThan(100_000);
                if (started) {
                    await().atMost(Duration.ofSeconds(10)).until(() -> Files.size(db) > before + 100_000);
                } else {
                    // Two checkpoint periods: long enough for a checkpoint that should not happen.
                    Thread.sleep(2 * WalCheckpointer.PERIOD_MILLIS);
                    assertThat(Files.size(db)).isEqualTo(before);
                }
                assertThat(deaths).isEmpty();
            }
            assertThat(rows(db)).hasSize(5_000);
        }
    }
}
