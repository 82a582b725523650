package fr.mesures.serveur.storage;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The default store: an SQLite database in WAL mode, its schema migrated by Flyway, written by one connection in
 * transactions of many readings (group commit).
 *
 * <p>Thread safety: only the pipeline's writer thread calls {@link #write}; the JDBC connection and statement are
 * confined to it. Once {@link #start started}, checkpoints run on a thread and connection of their own
 * ({@link WalCheckpointer}). Readers ({@code sqlite3} in a shell, backups) can open the file at the same time: WAL
 * lets them read while the writer writes.
 */
public final class SqliteStore implements MesureStore {

    private static final Logger log = LoggerFactory.getLogger(SqliteStore.class);

    private static final String INSERT = "INSERT INTO mesures (capteur_id, timestamp, temperature, received_at)"
            + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";
    private static final String STORED = "SELECT temperature FROM mesures WHERE capteur_id = ? AND timestamp = ?";

    /**
     * SQLite settings.
     *
     * @param synchronous   {@code FULL} (an acknowledged reading survives a power cut), {@code NORMAL} (it survives a
     *                      crash of the process; the last commits may be lost in a power cut) or {@code OFF}
     * @param busyTimeoutMs how long a write waits for another process's lock before failing, being retried, and
     *                      showing in {@code /health}: short, so that a lock held elsewhere is seen within a second
     * @param cacheMiB      page cache size
     */
    public record Options(String synchronous, int busyTimeoutMs, int cacheMiB) {
        public static final Options DEFAULT = new Options("FULL", 1_000, 64);

        public Options {
            synchronous = synchronous.toUpperCase(Locale.ROOT);
            if (!List.of("OFF", "NORMAL", "FULL", "EXTRA").contains(synchronous)) {
                throw new IllegalArgumentException("SQLite synchronous mode must be OFF, NORMAL, FULL or EXTRA, got "
                        + synchronous);
            }
        }
    }

    private final Path path;
    private final Options options;
    private final Connection connection;
    private final PreparedStatement insert;
    private final PreparedStatement stored;
    private final Statement transaction;
    private final WalCheckpointer checkpointer;
    private final SensorOrder order = new SensorOrder();

    private SqliteStore(Path path, Options options, Connection connection, WalCheckpointer checkpointer)
            throws SQLException {
        this.path = path;
        this.options = options;
        this.connection = connection;
        this.checkpointer = checkpointer;
        this.insert = connection.prepareStatement(INSERT);
        this.stored = connection.prepareStatement(STORED);
        this.transaction = connection.createStatement();
    }

    /** Opens the database, creating it and bringing its schema up to date. */
    public static SqliteStore open(Path path, Options options) throws StoreException {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.valueOf(options.synchronous()));
        config.setBusyTimeout(options.busyTimeoutMs());
        config.setCacheSize(-options.cacheMiB() * 1024);
        config.setTempStore(SQLiteConfig.TempStore.MEMORY);
        config.setGetGeneratedKeys(false);
        SQLiteDataSource dataSource = new SQLiteDataSource(config);
        dataSource.setUrl("jdbc:sqlite:" + path);
        try {
            Flyway.configure()
                    .dataSource(dataSource)
                    .locations("classpath:db/migration")
                    .load()
                    .migrate();
        } catch (FlywayException e) {
            throw new StoreException("cannot prepare the database " + path + ": " + rootMessage(e), e);
        }
        try {
            // Transactions are begun and ended explicitly (see write): the driver's emulation of
            // autoCommit=false loses track after SQLite rolls a failed transaction back by itself (a full disk),
            // and its next inserts would then each commit alone, unacknowledged.
            return new SqliteStore(path, options, dataSource.getConnection(),
                    new WalCheckpointer(dataSource.getConnection(), path.toString()));
        } catch (SQLException e) {
            throw new StoreException("cannot open the database " + path + ": " + e.getMessage(), e);
        }
    }

    /** Moves checkpoints off the writer's commits, onto a thread of their own ({@link WalCheckpointer}). */
    @Override
    public void start(Consumer<Throwable> onThreadDeath) {
        try {
            try (Statement statement = connection.createStatement()) {
                statement.execute("PRAGMA wal_autocheckpoint = " + WalCheckpointer.BACKSTOP_PAGES);
                long pageBytes;
                try (ResultSet pageSize = statement.executeQuery("PRAGMA page_size")) {
                    pageSize.next();
                    pageBytes = pageSize.getLong(1);
                }
                // A flood takes the log to about that size; once it starts over, it is cut back to it.
                statement.execute("PRAGMA journal_size_limit = " + WalCheckpointer.BACKSTOP_PAGES * pageBytes);
            }
            checkpointer.start(onThreadDeath);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot set up checkpoints of " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public int write(List<ReadingBlock> blocks) throws StoreException {
        boolean done = false;
        try {
            // IMMEDIATE takes the write lock now: when another process holds it, this waits (busy timeout) and
            // fails before anything is inserted.
            transaction.execute("BEGIN IMMEDIATE");
            // In key order, each sensor's readings land on the same few B-tree pages one after the other;
            // in arrival order every insert touches another page (measured by hand: 1.35 to 2 times faster).
            order.sort(blocks);
            for (int i = 0; i < order.size(); i++) {
                ReadingBlock block = blocks.get(order.block(i));
                int row = order.row(i);
                insert.setString(1, block.capteurId(row));
                insert.setLong(2, block.timestamp(row));
                insert.setDouble(3, block.temperature(row));
                insert.setLong(4, block.receivedAt());
                insert.addBatch();
            }
            int[] counts = insert.executeBatch();
            int inserted = 0;
            for (int i = 0; i < counts.length; i++) {
                ReadingBlock block = blocks.get(order.block(i));
                int row = order.row(i);
                if (counts[i] > 0) {
                    block.outcome(row, ReadingBlock.Outcome.STORED);
                    inserted++;
                } else {
                    // Rare (resends after a failure): the key is there already, from an earlier call or an
                    // earlier row of this one, which this transaction sees.
                    compareWithStored(block, row);
                }
            }
            transaction.execute("COMMIT");
            done = true;
            return inserted;
        } catch (SQLException e) {
            rollback();
            throw new StoreException("SQLite write failed: " + e.getMessage(), e);
        } finally {
            if (!done) {
                // No row of a failed call may read as stored, whoever looks.
                for (ReadingBlock block : blocks) {
                    block.resetOutcomes();
                }
            }
        }
    }

    private void compareWithStored(ReadingBlock block, int row) throws SQLException {
        stored.setString(1, block.capteurId(row));
        stored.setLong(2, block.timestamp(row));
        try (ResultSet result = stored.executeQuery()) {
            if (!result.next()) {
                throw new SQLException("the reading of " + block.capteurId(row) + " at " + block.timestamp(row)
                        + " was neither inserted nor found");
            }
            double temperature = result.getDouble(1);
            if (sameTemperature(temperature, block.temperature(row))) {
                block.outcome(row, ReadingBlock.Outcome.DUPLICATE);
            } else {
                block.conflict(row, temperature);
            }
        }
    }

    /**
     * Exact, except for the sign of zero, which SQLite does not keep: it stores -0.0 as the integer 0 and reads
     * it back as 0.0, so that a resend of -0.0 would otherwise pass for a conflict with itself.
     */
    private static boolean sameTemperature(double stored, double sent) {
        return Double.compare(stored, sent) == 0 || stored == 0 && sent == 0;
    }

    /** Ends whatever the failure left; SQLite may have rolled the transaction back already (disk full, I/O). */
    private void rollback() {
        try {
            insert.clearBatch();
            transaction.execute("ROLLBACK");
        } catch (SQLException e) {
            log.debug("rollback: {}", e.getMessage());
        }
    }

    @Override
    public String describe() {
        return "sqlite:" + path + " (synchronous=" + options.synchronous() + ")";
    }

    @Override
    public void close() {
        try {
            insert.close();
            stored.close();
            transaction.close();
            checkpointer.close();
            // Fold the WAL back into the database so the file is complete on its own (backups, copies).
            try (Statement statement = connection.createStatement()) {
                statement.execute("PRAGMA wal_checkpoint(TRUNCATE)");
            }
            connection.close();
        } catch (SQLException e) {
            log.warn("closing {} failed: {}", path, e.getMessage());
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage();
    }
}
