package fr.mesures.capteur.network;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import fr.mesures.common.log.LogBudget;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that runs every sensor of the process: it owns a {@link Selector} for their sockets, a queue of
 * timers for their schedules, reconnections and timeouts, and an inbox through which other threads hand it work.
 *
 * <p>A thousand sensors that each measure once a second and wait on the network most of the time need one
 * thread, not a thousand: every sensor's state is touched by this thread only, so none of it is locked. The only
 * ways in from other threads are {@link #execute} (a lock-free queue plus {@code selector.wakeup()}) and
 * {@link #close}. Handlers and tasks must not block: anything that waits (standard input) has its own thread and
 * calls {@link #execute} when it has something.
 */
public final class EventLoop implements AutoCloseable {

    /** Called on the loop thread when a registered channel is ready. */
    public interface Handler {
        void ready(SelectionKey key);
    }

    /** A scheduled task; cancelling it is cheap (it is skipped when due). Loop thread only. */
    public static final class Timer implements Comparable<Timer> {
        private final long deadline;
        private final long sequence;
        private final Runnable task;
        private boolean cancelled;

        private Timer(long deadline, long sequence, Runnable task) {
            this.deadline = deadline;
            this.sequence = sequence;
            this.task = task;
        }

        public void cancel() {
            cancelled = true;
        }

        @Override
        public int compareTo(Timer other) {
            int byTime = Long.compare(deadline, other.deadline);
            return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
        }
    }

    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    /** One thread, mostly waiting in select(): it needs no more stack than this whatever -Xss says. */
    private static final long STACK_BYTES = 512 * 1024;
    private static final int READ_BUFFER_BYTES = 64 * 1024;
    private static final long LOG_FLUSH_MILLIS = 1000;
    private static final String DEBUG_HINT = "CAPTEUR_LOG_LEVEL=DEBUG shows them";

    private final Selector selector;
    private final Thread thread;
    private final Queue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    // Loop-thread state.
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private final ArrayDeque<Runnable> runNow = new ArrayDeque<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BUFFER_BYTES);
    private final LogBudget connectionLog = new LogBudget(log, "connection events of other sensors", DEBUG_HINT, 20,
            Duration.ofSeconds(10));
    private final LogBudget refusalLog = new LogBudget(log, "refusals of the sensors' identity", DEBUG_HINT, 10,
            Duration.ofSeconds(10));
    private long timerSequence;
    private volatile boolean running;

    public EventLoop(String threadName) {
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector", e);
        }
        this.thread = new Thread(null, this::run, threadName, STACK_BYTES);
    }

    public void start() {
        running = true;
        thread.start();
    }

    /** Runs {@code task} on the loop thread soon. Any thread. */
    public void execute(Runnable task) {
        inbox.add(task);
        if (Thread.currentThread() != thread) {
            selector.wakeup();
        }
    }

    /** Runs {@code task} on the loop thread after {@code delayMillis}. Loop thread only. */
    public Timer schedule(long delayMillis, Runnable task) {
        return scheduleAt(now() + Math.max(0, delayMillis), task);
    }

    /** Runs {@code task} on the loop thread at {@code deadline} (in {@link #now()} time). Loop thread only. */
    public Timer scheduleAt(long deadline, Runnable task) {
        Timer timer = new Timer(deadline, timerSequence++, task);
        timers.add(timer);
        return timer;
    }

    /** Monotonic milliseconds, for timers and timeouts (not a wall-clock time). */
    public long now() {
        return System.nanoTime() / 1_000_000L;
    }

    /** Registers a channel with this loop's selector. Loop thread only. */
    public SelectionKey register(SelectableChannel channel, int ops, Handler handler) throws IOException {
        return channel.register(selector, ops, handler);
    }

    /** A buffer for reading sockets, shared by every handler since they run one at a time. Loop thread only. */
    public ByteBuffer readBuffer() {
        return readBuffer.clear();
    }

    /** The budget of connection-event lines shared by the sensors of this loop. Loop thread only. */
    public LogBudget connectionLog() {
        return connectionLog;
    }

    /**
     * The budget of lines about the server refusing who the sensors are (a token refused, a reading
     * {@code forbidden}), shared by the sensors of this loop: a fleet given the wrong credential meets it on every
     * connection or with every reading of every sensor.
     */
    public LogBudget refusalLog() {
        return refusalLog;
    }

    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    private void run() {
        try {
            flushConnectionLog();
            while (running) {
                long timeout = selectTimeout();
                if (timeout < 0) {
                    selector.selectNow(this::dispatch);
                } else {
                    selector.select(this::dispatch, timeout);
                }
                runInbox();
                runDueTimers();
            }
        } catch (IOException | RuntimeException e) {
            log.error("the sensors' I/O loop failed", e);
        } finally {
            connectionLog.report(System.nanoTime());
            refusalLog.report(System.nanoTime());
            closeChannels();
        }
    }

    /**
     * Ends the log budgets' windows on time, whether or not a sensor has something to log. Once a second for
     * the whole loop: the budget is the loop's, so the sensors (a thousand of them) need not flush it each.
     */
    private void flushConnectionLog() {
        connectionLog.roll(System.nanoTime());
        refusalLog.roll(System.nanoTime());
        schedule(LOG_FLUSH_MILLIS, this::flushConnectionLog);
    }

    /** -1: work is waiting, do not block; 0: block until woken; otherwise the wait until the next timer. */
    private long selectTimeout() {
        if (!inbox.isEmpty()) {
            return -1;
        }
        Timer next;
        while ((next = timers.peek()) != null && next.cancelled) {
            timers.poll();
        }
        if (next == null) {
            return 0;
        }
        long wait = next.deadline - now();
        return wait <= 0 ? -1 : wait;
    }

    private void dispatch(SelectionKey key) {
        try {
            ((Handler) key.attachment()).ready(key);
        } catch (RuntimeException e) {
            log.error("a sensor's handler failed", e);
        }
    }

    /** Runs the tasks that were queued before this turn; tasks they queue run next turn, so none starves I/O. */
    private void runInbox() {
        Runnable task;
        while ((task = inbox.poll()) != null) {
            runNow.add(task);
        }
        while ((task = runNow.poll()) != null) {
            runSafely(task);
        }
    }

    private void runDueTimers() {
        long now = now();
        Timer timer;
        while ((timer = timers.peek()) != null && timer.deadline <= now) {
            timers.poll();
            if (!timer.cancelled) {
                runSafely(timer.task);
            }
        }
    }

    private static void runSafely(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            log.error("a sensor's task failed", e);
        }
    }

    private void closeChannels() {
        for (SelectionKey key : selector.keys()) {
            try {
                key.channel().close();
            } catch (IOException e) {
                log.debug("closing a channel: {}", e.toString());
            }
        }
        try {
            selector.close();
        } catch (IOException e) {
            log.debug("closing the selector: {}", e.toString());
        }
    }

    /** Stops the loop and closes every channel still registered; waits for the thread to end. */
    @Override
    public void close() {
        running = false;
        selector.wakeup();
        if (!inLoop() && thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else if (!thread.isAlive() && selector.isOpen()) {
            closeChannels(); // never started
        }
    }
}
