package fr.mesures.systemtests.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;

/**
 * One of the server's metrics scraped from {@code /metrics} over and over on a thread of its own while a test
 * attacks, keeping the largest value seen. Failed scrapes are counted and kept, never swallowed: a watch whose
 * scrapes all failed has seen nothing, and {@link #assertWatched} says so instead of letting its maximum (0) pass
 * for a bound that held.
 */
public final class MetricWatch implements AutoCloseable {

    private final String what;
    private final Thread thread;
    private final AtomicInteger samples = new AtomicInteger();
    private final AtomicInteger failures = new AtomicInteger();
    private volatile double max = Double.NEGATIVE_INFINITY;
    private volatile String firstFailure;
    private volatile boolean stopping;

    private MetricWatch(String what, ServeurProcess server, ToDoubleFunction<Metrics> value, Duration every) {
        this.what = what;
        this.thread = new Thread(() -> run(server, value, every), "watch-" + what);
        // Never keeps the test JVM alive, whatever happens to the test.
        thread.setDaemon(true);
    }

    /** Starts scraping {@code value} every {@code every} (plus the time a scrape takes). */
    public static MetricWatch start(String what, ServeurProcess server, ToDoubleFunction<Metrics> value,
            Duration every) {
        MetricWatch watch = new MetricWatch(what, server, value, every);
        watch.thread.start();
        return watch;
    }

    /** The heap in use, summed over its pools, as the server's JVM reports it. */
    public static MetricWatch heap(ServeurProcess server) {
        return start("heap", server, m -> m.sum("jvm_memory_used_bytes", "area=\"heap\""), Duration.ofMillis(100));
    }

    private void run(ServeurProcess server, ToDoubleFunction<Metrics> value, Duration every) {
        try {
            while (!stopping) {
                try {
                    double v = value.applyAsDouble(server.metrics());
                    if (v > max) {
                        max = v;
                    }
                    samples.incrementAndGet();
                } catch (RuntimeException e) {
                    if (stopping) {
                        // the scrape was cut short by stop(), not failed by the server
                        return;
                    }
                    if (failures.getAndIncrement() == 0) {
                        firstFailure = e.toString();
                    }
                } finally {
                    // After a failed scrape too: a failing endpoint must not turn this loop into a busy one.
                    Thread.sleep(every.toMillis());
                }
            }
        } catch (InterruptedException e) {
            // stopped by the test
        }
    }

    /** Stops scraping; the figures are final once this returns. */
    public MetricWatch stop() throws InterruptedException {
        stopping = true;
        thread.interrupt();
        thread.join(TimeUnit.SECONDS.toMillis(30));
        return this;
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /** The largest value scraped; negative infinity when no scrape succeeded. */
    public double max() {
        return max;
    }

    public int samples() {
        return samples.get();
    }

    public int failures() {
        return failures.get();
    }

    /**
     * Fails unless the watch actually watched: at least {@code minSamples} successful scrapes and not one failed
     * scrape (the server's HTTP endpoint has a thread of its own and must answer under attack too).
     */
    public void assertWatched(int minSamples) {
        assertThat(failures()).as("failed scrapes of %s (%d succeeded; first failure: %s)", what, samples(),
                firstFailure).isZero();
        assertThat(samples()).as("successful scrapes of %s", what).isGreaterThanOrEqualTo(minSamples);
    }

    public String describe() {
        return String.format("%s: max %.0f over %d scrapes, %d failed", what, max, samples(), failures());
    }
}
