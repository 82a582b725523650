package fr.mesures.serveur.metrics;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Makes the Prometheus text on a thread of its own, {@code serveur-http-scrape}, once for all the requests waiting
 * for it. With thousands of sensor series a scrape costs tens of milliseconds of CPU and megabytes of heap: thirty
 * clients reading {@code /metrics} at once kept every HTTP thread scraping, so that a health check waited two
 * seconds for a thread, and held thirty copies. Here no HTTP thread waits for a scrape, one scrape runs at a time,
 * and each request is answered with a scrape that started after it arrived, so nothing it sees is older than the
 * request. Thread-safe.
 */
final class SharedScrape implements AutoCloseable {

    private final Supplier<String> scrape;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(task -> {
        Thread t = new Thread(task, "serveur-http-scrape");
        t.setDaemon(true);
        return t;
    });
    /** Requests waiting for the next scrape; guarded by {@code this}. */
    private List<Answer> waiting = new ArrayList<>();

    /** Where a request's text goes, or why there is none. */
    interface Answer {
        void text(byte[] utf8);

        void failed(Throwable why);
    }

    SharedScrape(Supplier<String> scrape) {
        this.scrape = scrape;
    }

    /** Answers {@code answer}, on the scrape thread, with a scrape started after this call (its array is shared). */
    void request(Answer answer) {
        boolean first;
        synchronized (this) {
            first = waiting.isEmpty();
            waiting.add(answer);
        }
        if (first) {
            thread.execute(this::serve);
        }
    }

    private void serve() {
        List<Answer> now;
        synchronized (this) {
            now = waiting;
            waiting = new ArrayList<>();
        }
        byte[] text;
        try {
            text = scrape.get().getBytes(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            now.forEach(a -> a.failed(e));
            return;
        }
        now.forEach(a -> a.text(text));
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
