package fr.mesures.serveur.storage;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies SQLite's write-ahead log back into the database file on a thread and connection of its own, so that no
 * commit waits for it. SQLite's automatic checkpoint runs inside the commit that takes the log past 1,000 pages,
 * fsync of the database file included: at 10,000 sensors sending once a second, 5 to 10 % of the batches waited more
 * than 16 ms for their commit, behind those commits (measured, docs/performance.md).
 *
 * <p>Every {@link #PERIOD_MILLIS} a passive checkpoint copies what it can without holding the writer back. SQLite
 * starts the log over only at a commit that finds it wholly copied, which never happens while a flood appends during
 * every checkpoint: the writer's own automatic checkpoint therefore stays, as a backstop, at {@link #BACKSTOP_PAGES}
 * (it copies, at that commit, the little the passive ones left, and the log starts over).
 *
 * <p>Thread: {@code serveur-checkpoint} owns the connection from {@link #start} to {@link #close}. A failed
 * checkpoint is logged when the failure starts and tried again; an unexpected error kills the thread, which is
 * reported to the callback given to {@link #start} (the server then stops, as for any of its threads).
 */
final class WalCheckpointer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WalCheckpointer.class);
    static final long PERIOD_MILLIS = 200;
    /** The writer's own automatic checkpoint, kept as a backstop: 64 MiB of log at SQLite's default 4 KiB pages. */
    static final int BACKSTOP_PAGES = 16_384;

    private final Connection connection;
    private final String database;
    private final Thread thread;
    private volatile boolean closing;
    private Consumer<Throwable> onDeath;
    private String failing;

    WalCheckpointer(Connection connection, String database) {
        this.connection = connection;
        this.database = database;
        this.thread = new Thread(this::run, "serveur-checkpoint");
        thread.setDaemon(true);
    }

    /** Starts the thread; {@code onDeath} is called on it if it dies of something unexpected. */
    void start(Consumer<Throwable> onDeath) {
        this.onDeath = onDeath;
        thread.start();
    }

    private void run() {
        try {
            while (!closing) {
                TimeUnit.MILLISECONDS.sleep(PERIOD_MILLIS);
                checkpoint();
            }
        } catch (InterruptedException e) {
            // close()
        } catch (Throwable e) {
            if (!closing) {
                onDeath.accept(e);
            }
        }
    }

    private void checkpoint() {
        try (Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
            result.next();
            if (failing != null) {
                log.info("checkpoints of {} work again", database);
                failing = null;
            }
        } catch (SQLException e) {
            if (!closing && !Objects.equals(e.getMessage(), failing)) {
                log.warn("checkpoint of {} failed: {}; commits go on, and checkpoint the log themselves past {} pages",
                        database, e.getMessage(), BACKSTOP_PAGES);
                failing = e.getMessage();
            }
        }
    }

    @Override
    public void close() {
        closing = true;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            connection.close();
        } catch (SQLException e) {
            log.debug("closing the checkpoint connection: {}", e.getMessage());
        }
    }
}
