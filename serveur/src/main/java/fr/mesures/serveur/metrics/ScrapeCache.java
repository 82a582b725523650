package fr.mesures.serveur.metrics;

import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The Prometheus text, made at most once per {@code maxAge} however many clients ask: with thousands of sensor
 * series a scrape costs tens of milliseconds of CPU and megabytes of heap, and thirty clients reading
 * {@code /metrics} at once kept every HTTP thread scraping (a health check waited two seconds) and held thirty copies.
 * Requests that arrive while a scrape is being made wait for it and share it. Thread-safe.
 */
final class ScrapeCache {

    private final Supplier<String> scrape;
    private final long maxAgeNanos;
    private byte[] text;
    private long madeAtNanos;

    ScrapeCache(Supplier<String> scrape, long maxAgeNanos) {
        this.scrape = scrape;
        this.maxAgeNanos = maxAgeNanos;
    }

    /** The text as UTF-8; callers must not change the array. */
    synchronized byte[] get() {
        if (text == null || System.nanoTime() - madeAtNanos > maxAgeNanos) {
            text = scrape.get().getBytes(StandardCharsets.UTF_8);
            madeAtNanos = System.nanoTime();
        }
        return text;
    }
}
