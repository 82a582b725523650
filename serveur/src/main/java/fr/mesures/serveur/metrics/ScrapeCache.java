package fr.mesures.serveur.metrics;

import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The Prometheus text, made once for all the requests waiting for it: with thousands of sensor series a scrape
 * costs tens of milliseconds of CPU and megabytes of heap, and thirty clients reading {@code /metrics} at once kept
 * every HTTP thread scraping (a health check waited two seconds) and held thirty copies. One scrape runs at a time;
 * each request gets the text of a scrape that started after it arrived, so nothing it could see is older than the
 * request itself, and a burst of requests costs at most two scrapes. Thread-safe.
 */
final class ScrapeCache {

    private final Supplier<String> scrape;
    private byte[] text;
    private long startedNanos;

    ScrapeCache(Supplier<String> scrape) {
        this.scrape = scrape;
    }

    /** The text as UTF-8; callers must not change the array. */
    byte[] get() {
        long arrived = System.nanoTime();
        synchronized (this) {
            if (text == null || startedNanos - arrived < 0) {
                startedNanos = System.nanoTime();
                text = scrape.get().getBytes(StandardCharsets.UTF_8);
            }
            return text;
        }
    }
}
