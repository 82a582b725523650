package fr.mesures.serveur.ingest;

import fr.mesures.protocole.RejectReason;
import fr.mesures.serveur.metrics.IngestMetrics;
import fr.mesures.serveur.storage.MesureStore;
import fr.mesures.serveur.storage.ReadingBlock;
import fr.mesures.serveur.storage.StoreException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer: the one thread that writes to the store. It commits decoded batches in the order the selector cut
 * them, as many at a time as are ready (group commit: the more load, the larger each transaction, up to a
 * limit), and only then passes them on to be acknowledged.
 *
 * <p>Workers finish batches out of order; the writer waits for the next batch in sequence before committing
 * anything after it, so every connection's values are stored and acknowledged in the order they were sent.
 *
 * <p>When a write fails (database locked, disk full, file unwritable) nothing is acknowledged and nothing is
 * dropped: the writer retries the same readings with a growing pause, reports the problem through
 * {@link #health()}, and the pipeline behind it fills until the selector stops reading sockets.
 */
public final class StoreWriter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StoreWriter.class);
    private static final long FIRST_RETRY_MILLIS = 50;
    private static final long MAX_RETRY_MILLIS = 2_000;
    /**
     * A group smaller than this waits up to {@link #LINGER_NANOS} for more: a thousand readings take about 1.5 ms
     * to insert (1.46 µs each, bench/RESULTS.md), the order of one fsync, so below that a commit is mostly fsync.
     */
    private static final int LINGER_BELOW_ROWS = 1_000;
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private final MesureStore store;
    private final int maxBatchRows;
    private final IngestMetrics metrics;
    private final Consumer<List<FrameBatch>> committed;
    private final FailFast failFast;
    private final InjectedFault fault;
    private final Thread thread;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition nextReady = lock.newCondition();
    private final Map<Long, FrameBatch> waiting = new HashMap<>();
    private long nextSeq;
    private boolean closing;

    // Writer thread only.
    private final TimestampAssigner timestamps = new TimestampAssigner();

    private volatile StoreHealth health = StoreHealth.ok(System.currentTimeMillis());

    /**
     * @param committed receives each committed group, in sequence order, on the writer thread
     * @param failFast  told when the writer dies of something other than a store failure
     * @param fault     a test seam, {@link InjectedFault#NONE} in production
     */
    public StoreWriter(MesureStore store, int maxBatchRows, IngestMetrics metrics,
            Consumer<List<FrameBatch>> committed, FailFast failFast, InjectedFault fault) {
        this.store = store;
        this.maxBatchRows = maxBatchRows;
        this.metrics = metrics;
        this.committed = committed;
        this.failFast = failFast;
        this.fault = fault;
        this.thread = new Thread(this::run, "serveur-writer");
    }

    public void start() {
        thread.start();
    }

    /** Hands over a decoded batch; called by the workers, in any order. */
    public void submit(FrameBatch batch) {
        lock.lock();
        try {
            waiting.put(batch.seq(), batch);
            if (batch.seq() == nextSeq) {
                nextReady.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    public StoreHealth health() {
        return health;
    }

    /** Commits what is ready, then stops. Call once nothing more will be submitted. */
    @Override
    public void close() {
        lock.lock();
        try {
            closing = true;
            nextReady.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
            if (thread.isAlive()) {
                log.warn("the store is still failing; giving up on readings that were never acknowledged");
                thread.interrupt();
                thread.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            work();
        } catch (InterruptedException e) {
            log.debug("writer interrupted");
        } catch (Throwable e) {
            // An Error (out of memory...) or a bug: nothing more can be committed, so nothing more acknowledged.
            failFast.report(e);
        }
    }

    private void work() throws InterruptedException {
        List<FrameBatch> group = new ArrayList<>();
        List<ReadingBlock> blocks = new ArrayList<>();
        while (takeGroup(group)) {
            int rows = 0;
            for (FrameBatch batch : group) {
                timestamps.assign(batch.readings());
                blocks.add(batch.readings());
                rows += batch.readings().size();
                fault.at("writer", batch.readings());
            }
            if (rows > 0) {
                commit(blocks, rows);
            }
            committed.accept(List.copyOf(group));
            group.clear();
            blocks.clear();
        }
    }

    /**
     * Waits for the next batch in sequence and takes it with every batch ready after it, up to the limit. When
     * that makes a small group, it lingers a little for more: under a trickle (10,000 sensors at one reading a
     * second each) every commit would otherwise carry a handful of readings and pay a whole fsync for them.
     */
    private boolean takeGroup(List<FrameBatch> group) throws InterruptedException {
        lock.lock();
        try {
            while (!waiting.containsKey(nextSeq)) {
                if (closing) {
                    return false;
                }
                nextReady.await();
            }
            long deadline = System.nanoTime() + LINGER_NANOS;
            int rows = takeReady(group, 0);
            long left;
            while (rows < LINGER_BELOW_ROWS && !closing && (left = deadline - System.nanoTime()) > 0) {
                nextReady.awaitNanos(left);
                rows = takeReady(group, rows);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Moves the batches ready in sequence into the group, up to the limit; returns the group's rows. */
    private int takeReady(List<FrameBatch> group, int rows) {
        FrameBatch batch;
        while (rows < maxBatchRows && (batch = waiting.remove(nextSeq)) != null) {
            group.add(batch);
            rows += batch.readings().size();
            nextSeq++;
        }
        return rows;
    }

    private void commit(List<ReadingBlock> blocks, int rows) throws InterruptedException {
        long pause = FIRST_RETRY_MILLIS;
        while (true) {
            long start = System.nanoTime();
            try {
                for (ReadingBlock block : blocks) {
                    block.resetOutcomes();
                }
                int stored = store.write(blocks);
                long nanos = System.nanoTime() - start;
                if (!health.writable()) {
                    log.info("the store is writable again; {} readings committed", rows);
                    health = StoreHealth.ok(System.currentTimeMillis());
                }
                int conflicts = 0;
                for (ReadingBlock block : blocks) {
                    for (int i = 0; i < block.size(); i++) {
                        ReadingBlock.Outcome outcome = block.outcome(i);
                        if (outcome == ReadingBlock.Outcome.STORED) {
                            metrics.lastReading(block.capteurId(i), block.temperature(i), block.receivedAt());
                        } else if (outcome == ReadingBlock.Outcome.CONFLICT) {
                            conflicts++;
                        }
                    }
                }
                metrics.committed(stored, rows - stored - conflicts, nanos);
                if (conflicts > 0) {
                    metrics.rejected(RejectReason.CONFLICT, conflicts);
                }
                return;
            } catch (StoreException e) {
                metrics.storeFailed();
                if (health.writable()) {
                    log.warn("cannot write to {}: {}; holding {} readings and retrying", store.describe(),
                            e.getMessage(), rows);
                    health = StoreHealth.failing(e.getMessage(), System.currentTimeMillis());
                } else if (!e.getMessage().equals(health.problem())) {
                    health = StoreHealth.failing(e.getMessage(), health.sinceMillis());
                }
                Thread.sleep(pause);
                pause = Math.min(MAX_RETRY_MILLIS, pause * 2);
            }
        }
    }
}
