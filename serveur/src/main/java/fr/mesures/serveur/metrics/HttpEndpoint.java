package fr.mesures.serveur.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The HTTP side, on the JDK's {@code com.sun.net.httpserver}: {@code GET /metrics} (Prometheus text format) and
 * {@code GET /health} (200 with a small JSON body when healthy, 503 otherwise). One thread,
 * {@code serveur-http}, answers both; scrapes are rare and cheap.
 */
public final class HttpEndpoint implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;

    private HttpEndpoint(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Starts listening on {@code bind:port} (port 0 picks a free one).
     *
     * @throws UncheckedIOException when the port cannot be bound
     */
    public static HttpEndpoint start(String bind, int port, ServeurMetrics metrics, Supplier<Health> health) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(bind, port), 64);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for HTTP on " + bind + ":" + port + ": " + e.getMessage(),
                    e);
        }
        server.createContext("/metrics", exchange -> {
            if (allowGet(exchange)) {
                respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
            }
        });
        server.createContext("/health", exchange -> {
            if (allowGet(exchange)) {
                Health now = health.get();
                respond(exchange, now.healthy() ? 200 : 503, "application/json", now.toJson());
            }
        });
        ExecutorService executor = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "serveur-http");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.start();
        return new HttpEndpoint(server, executor);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private static boolean allowGet(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        if (method.equals("GET") || method.equals("HEAD")) {
            return true;
        }
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        respond(exchange, 405, "text/plain; charset=utf-8", "only GET\n");
        return false;
    }

    private static void respond(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
        exchange.close();
    }
}
