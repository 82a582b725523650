package fr.mesures.systemtests.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The {@code sqlite3} shell holding a write transaction on the server's database, as a person running a manual
 * {@code BEGIN IMMEDIATE; INSERT ...} (or a backup tool, or a second program) would: the server's writes get
 * SQLITE_BUSY until the shell ends the transaction.
 */
public final class SqliteShell implements AutoCloseable {

    private static final String MARKER = "verrou-pris";

    private final Process process;
    private final OutputStream stdin;
    private final Path output;

    private SqliteShell(Process process, Path output) {
        this.process = process;
        this.stdin = process.getOutputStream();
        this.output = output;
    }

    /** Starts {@code sqlite3 DB}, takes the write lock with a row in an open transaction, returns once it holds it. */
    public static SqliteShell holdWriteLock(Path db, Path output) throws IOException {
        Process process = Children.start(new ProcessBuilder("sqlite3", db.toString()).redirectErrorStream(true)
                .redirectOutput(output.toFile()));
        SqliteShell shell = new SqliteShell(process, output);
        // .bail on: a failed statement ends the shell, so the marker is printed only if BEGIN IMMEDIATE and the
        // INSERT succeeded. The marker is a word no sqlite3 error contains ("database is locked" does contain
        // "locked").
        shell.send(".bail on\nPRAGMA busy_timeout = 30000;\nBEGIN IMMEDIATE;\n"
                + "INSERT INTO mesures (capteur_id, timestamp, temperature, received_at) VALUES ('verrou', 1, 0, 1);\n"
                + "SELECT '" + MARKER + "';\n");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> shell.output().contains(MARKER) || !process.isAlive());
        if (!shell.output().contains(MARKER)) {
            throw new IllegalStateException("sqlite3 did not take the lock: " + shell.output());
        }
        return shell;
    }

    public String output() throws IOException {
        return Files.readString(output, StandardCharsets.UTF_8);
    }

    /** ROLLBACK and quit: the lock is gone and the shell's row was never there. */
    public void release() throws IOException, InterruptedException {
        send("ROLLBACK;\n.quit\n");
        stdin.close();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("sqlite3 did not quit");
        }
    }

    private void send(String text) throws IOException {
        stdin.write(text.getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }
}
