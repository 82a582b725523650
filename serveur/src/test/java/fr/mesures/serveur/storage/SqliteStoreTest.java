package fr.mesures.serveur.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteStoreTest {

    @TempDir
    Path dir;

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
            assertThat(store.write(List.of(block))).isZero();
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
}
