package fr.mesures.bench.jmh;

import fr.mesures.bench.charge.Workload;
import fr.mesures.serveur.ServeurSettings;
import fr.mesures.serveur.memory.Footprint;
import fr.mesures.serveur.memory.MemoryBudget;
import fr.mesures.serveur.storage.FileStore;
import fr.mesures.serveur.storage.MesureStore;
import fr.mesures.serveur.storage.ReadingBlock;
import fr.mesures.serveur.storage.SqliteStore;
import fr.mesures.serveur.storage.StoreException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The writer's commit: one {@code write} of 100,000 readings (in 25 blocks of 4,000, as selector rounds hand
 * them on) into a real store in a temporary folder on this disk, fsync or SQLite commit included. Each call
 * writes new keys (time moves on by one millisecond per 1,000 sensors), so the table grows over an iteration as
 * it does in the server; a fresh store per iteration. Score: µs per reading (multiply by 100,000 for the batch).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class StoreBench {

    static final int ROWS = 100_000;
    static final int BLOCK = 4_000;
    static final int SENSORS = 1_000;
    /** The load generator's numbering; far more readings than an iteration writes (a few million). */
    static final Workload NUMBERING = new Workload(1_000_000_000L, 1, SENSORS, Workload.DEFAULT_BASE_MILLIS);
    /**
     * What the server gives the file store to remember at -Xmx128m (the heap run.sh gives it): the most readings
     * its in-flight budget can hold (190,650).
     */
    static final int REMEMBERED_KEYS = Footprint.maxReadingsIn(
            MemoryBudget.forHeap(128L << 20, ServeurSettings.DEFAULT_MAX_MESSAGE_BYTES).inFlightLimit());

    /** {@code sqlite:FULL}, {@code sqlite:NORMAL} or {@code file}. */
    @Param({"sqlite:FULL", "sqlite:NORMAL", "file"})
    String store;

    Path dir;
    MesureStore target;
    List<ReadingBlock> blocks;
    String[] ids;
    long next;

    @Setup(Level.Trial)
    public void names() {
        ids = new String[SENSORS];
        // One String per sensor, shared by all its readings, as the server's identifier cache does.
        for (int s = 0; s < SENSORS; s++) {
            ids[(int) NUMBERING.sensor(s) - 1] = NUMBERING.capteurId(s);
        }
    }

    @Setup(Level.Iteration)
    public void open() throws IOException, StoreException {
        dir = Files.createTempDirectory("store-bench");
        if (store.startsWith("sqlite:")) {
            SqliteStore.Options d = SqliteStore.Options.DEFAULT;
            target = SqliteStore.open(dir.resolve("mesures.db"),
                    new SqliteStore.Options(store.substring(7), d.busyTimeoutMs(), d.cacheMiB()));
        } else {
            target = FileStore.open(dir.resolve("donnees.txt"), REMEMBERED_KEYS);
        }
        next = 0;
    }

    @Setup(Level.Invocation)
    public void rows() {
        blocks = new ArrayList<>();
        for (int b = 0; b < ROWS / BLOCK; b++) {
            ReadingBlock block = new ReadingBlock(BLOCK);
            block.receivedAt(NUMBERING.timestamp(next));
            for (int i = 0; i < BLOCK; i++, next++) {
                block.add(ids[(int) NUMBERING.sensor(next) - 1], NUMBERING.temperature(next),
                        NUMBERING.timestamp(next));
            }
            blocks.add(block);
        }
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public int write() throws StoreException {
        return target.write(blocks);
    }

    @TearDown(Level.Iteration)
    public void close() throws IOException {
        target.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
