package fr.mesures.serveur.reload;

import fr.mesures.serveur.ingest.FailFast;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps values made from files current while the server runs, so that a renewed TLS certificate or an edited
 * credentials file is taken without a restart. One thread, {@code serveur-reload}, polls every watched file set
 * each period (a second by default): a file whose modification time, size or file key changed has its set loaded
 * again by its {@link Loader}.
 *
 * <pre>
 * Reloader reloader = new Reloader(Reloader.DEFAULT_PERIOD);
 * Watched&lt;Credentials&gt; credentials =
 *         reloader.watch("credentials", List.of(file), () -&gt; Credentials.read(file));
 * credentials.get();                       // the current value, one volatile read
 * credentials.version();                   // 1, then one more per reload: compare to notice a change
 * credentials.onChange(c -&gt; ...);          // told on the reload thread; quick, never blocking
 * reloader.start(failFast); ... reloader.close();   // ServeurTCP does both
 * </pre>
 *
 * <p>{@link #watch} loads at once and throws what the loader throws, for a start-up error. After that a load that
 * fails never takes the value away: the last good one stays, one WARN line says why (see {@link Watched} for when),
 * and {@code serveur_reload_failures_total{what}} counts it; a reload that succeeds logs one INFO line. The thread
 * dies only of an {@link Error}, which it reports to {@link FailFast} like the pipeline's threads.
 *
 * <p>Thread-safe. Polls run one at a time, on the thread or in {@link #checkNow()}; files may be watched before or
 * after {@link #start}. Restartable: {@link #close()} stops the thread, and {@link #start} starts a new one.
 */
public final class Reloader implements AutoCloseable {

    /**
     * How often files are looked at: a renewal is served, and a revoked credential refused, within this long (and
     * one more for a two-step renewal). Short, because a revocation should take effect at once; a look is a few
     * {@code stat} calls, nothing more.
     */
    public static final Duration DEFAULT_PERIOD = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(Reloader.class);

    private final Duration period;
    private final Object pollLock = new Object();
    private final List<Watched<?>> watched = new ArrayList<>(); // guarded by this
    private final List<Consumer<Watched<?>>> observers = new ArrayList<>(); // guarded by this
    private Thread thread; // guarded by this
    private CountDownLatch stop; // guarded by this

    public Reloader(Duration period) {
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("the reload period must be positive");
        }
        this.period = period;
    }

    /**
     * Loads {@code files} into a value now, and again each time they change.
     *
     * @param what  a short name for logs and the metrics' {@code what} label ({@code tls}, {@code credentials}),
     *              one per reloader
     * @param files every file the loader reads: a change to any of them reloads
     * @throws IOException what the loader throws on this first load (so does a RuntimeException)
     */
    public <T> Watched<T> watch(String what, List<Path> files, Loader<T> loader) throws IOException {
        synchronized (this) {
            requireNew(what);
        }
        Watched<T> value = new Watched<>(what, files, loader, period);
        List<Consumer<Watched<?>>> toTell;
        synchronized (this) {
            requireNew(what);
            watched.add(value);
            toTell = List.copyOf(observers);
        }
        toTell.forEach(observer -> observer.accept(value));
        return value;
    }

    private void requireNew(String what) {
        if (watched.stream().anyMatch(w -> w.what().equals(what))) {
            throw new IllegalArgumentException("'" + what + "' is watched already");
        }
    }

    /** Calls {@code observer} for each value watched now and each watched later (to give each its metrics). */
    public void eachWatched(Consumer<Watched<?>> observer) {
        Objects.requireNonNull(observer, "observer");
        List<Watched<?>> now;
        synchronized (this) {
            observers.add(observer);
            now = List.copyOf(watched);
        }
        now.forEach(observer);
    }

    public Duration period() {
        return period;
    }

    /**
     * Starts the thread {@code serveur-reload}, unless it runs already.
     *
     * @param failFast told if the thread dies of an Error, which takes {@code /health} to 503 and stops the server
     */
    public synchronized void start(FailFast failFast) {
        Objects.requireNonNull(failFast, "failFast");
        if (thread != null) {
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        stop = stopped;
        thread = new Thread(() -> run(stopped, failFast), "serveur-reload");
        thread.setDaemon(true);
        thread.start();
    }

    /** Polls every watched file set now, on the calling thread, and returns once any reload is done (for tests). */
    public void checkNow() {
        List<Watched<?>> now;
        synchronized (this) {
            now = List.copyOf(watched);
        }
        synchronized (pollLock) {
            for (Watched<?> value : now) {
                value.check();
            }
        }
    }

    private void run(CountDownLatch stopped, FailFast failFast) {
        try {
            while (!stopped.await(period.toNanos(), TimeUnit.NANOSECONDS)) {
                checkNow();
            }
        } catch (InterruptedException e) {
            log.debug("reload thread interrupted");
        } catch (Throwable e) {
            // Loaders' exceptions are handled per file set: this is an Error (out of memory...) or a bug here.
            // Without the thread nothing is reloaded again, which an operator renewing a certificate must know.
            failFast.report(e);
        }
    }

    /** Stops the thread, after the poll under way if any. The values stay readable. */
    @Override
    public void close() {
        Thread running;
        synchronized (this) {
            running = thread;
            if (running == null) {
                return;
            }
            stop.countDown();
            thread = null;
            stop = null;
        }
        try {
            running.join(TimeUnit.SECONDS.toMillis(10));
            if (running.isAlive()) {
                // A loader stuck on a file system (a hung network mount): the thread is a daemon, let it be.
                log.warn("the reload thread is still reading files after 10 s; leaving it");
                running.interrupt();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
