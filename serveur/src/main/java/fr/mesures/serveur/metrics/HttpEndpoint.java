package fr.mesures.serveur.metrics;

import fr.mesures.common.log.LogBudget;
import fr.mesures.common.tls.ServerTls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side, on Jetty's core API (no servlets): {@code GET /metrics} (Prometheus text format) and
 * {@code GET /health} (200 with a small JSON body when healthy, 503 otherwise). A health check must get its answer
 * however other HTTP clients behave: Jetty reads requests without holding a thread, so a client that stalls costs a
 * connection, not a thread, and connections are bounded in number (64: one more closes the oldest) and each in time
 * (5 s without a byte either way, 10 s in all, one request each). Threads: {@code serveur-http-N}, at most 8 (one accepting, one selecting,
 * the rest answering), and {@code serveur-http-timer}, which enforces the time limits.
 *
 * <p>With {@link HttpSecurity}, the same port speaks HTTPS (the sensor port's {@link ServerTls}: its certificate and
 * {@code TlsPolicy}, applied to each engine as they are), under the same limits: a client that stalls its handshake
 * holds one of the 64 connections, for 5 s idle or 10 s at most. And {@code /metrics} may require a bearer token:
 * without it, 401, counted in {@code serveur_http_unauthorized_total} and logged at most once a minute. Both are
 * asked of their suppliers as they are needed, the certificate for each new connection and the token for each
 * request, so that files re-read while the server runs ({@link HttpSecurity#reloading}) take effect at once.
 */
public final class HttpEndpoint implements AutoCloseable {

    /** Defends against a client that sends half a request, or reads none of the response, and waits. */
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(5);
    /**
     * Defends against a client that trickles a byte now and then, so never goes idle: each connection is closed
     * this long after it opened, whatever it is doing. Jetty 12 has no limit of its own on the time to read
     * headers, and its minimum data rates ({@code MinimumDataRateHandler}) watch request bodies and response
     * writes, which a GET with a small answer cannot stall.
     */
    private static final Duration DEADLINE = Duration.ofSeconds(10);
    /**
     * Defends the process's descriptors and memory against many connections: one more than this closes the oldest.
     * Making new connections wait instead (Jetty's connection limit) let a thousand clients trickling their
     * requests hold a health check in the listen backlog for over a second.
     */
    private static final int MAX_CONNECTIONS = 64;
    /** Connections the kernel queues while the acceptor works through a flood; a SYN dropped waits 1 s to retry. */
    private static final int ACCEPT_QUEUE = 1024;
    /** Defends against large requests: a GET needs a request line and a few headers; larger ones get 431. */
    private static final int MAX_REQUEST_HEADER_BYTES = 8 * 1024;
    /** One accepting, one selecting, the rest for answering; Jetty warns when that leaves none. */
    private static final int MAX_THREADS = 8;
    /** Refused /metrics requests are each counted, and logged once in this long: a misconfigured scraper, a probe. */
    private static final Duration REFUSAL_LOG_WINDOW = Duration.ofMinutes(1);

    private static final Logger log = LoggerFactory.getLogger(HttpEndpoint.class);

    private final Server server;
    private final ServerConnector connector;
    private final SharedScrape scrapes;

    private HttpEndpoint(Server server, ServerConnector connector, SharedScrape scrapes) {
        this.server = server;
        this.connector = connector;
        this.scrapes = scrapes;
    }

    /**
     * Starts listening on {@code bind:port} (port 0 picks a free one), plain HTTP open to all.
     *
     * @throws UncheckedIOException when the port cannot be bound
     */
    public static HttpEndpoint start(String bind, int port, ServeurMetrics metrics, Supplier<Health> health) {
        return start(bind, port, HttpSecurity.NONE, metrics, health);
    }

    /**
     * Starts listening on {@code bind:port} (port 0 picks a free one), over HTTPS and with a token for
     * {@code /metrics} as {@code security} says.
     *
     * @throws UncheckedIOException when the port cannot be bound
     */
    public static HttpEndpoint start(String bind, int port, HttpSecurity security, ServeurMetrics metrics,
            Supplier<Health> health) {
        var threads = new QueuedThreadPool(MAX_THREADS, 2);
        threads.setName("serveur-http");
        threads.setDaemon(true);
        // close() is prompt: no graceful wait for requests in flight, and little for a thread busy answering.
        threads.setStopTimeout(100);
        var scheduler = new ScheduledExecutorScheduler("serveur-http-timer", true);
        var server = new Server(threads, scheduler, null);
        server.setStopTimeout(0);

        var config = new HttpConfiguration();
        config.setRequestHeaderSize(MAX_REQUEST_HEADER_BYTES);
        // One request per connection makes the deadline a bound on each request; scrapes are seconds apart.
        config.setPersistentConnectionsEnabled(false);
        config.setSendServerVersion(false);
        var http = new HttpConnectionFactory(config);
        var connector = security.https()
                ? new ServerConnector(server, 1, 1, tls(security.tls()), http)
                : new ServerConnector(server, 1, 1, http);
        connector.setHost(bind);
        connector.setPort(port);
        connector.setIdleTimeout(IDLE_TIMEOUT.toMillis());
        connector.setAcceptQueueSize(ACCEPT_QUEUE);
        connector.addEventListener(new ConnectionGuard(scheduler));
        server.addConnector(connector);
        var scrapes = new SharedScrape(metrics::scrape);
        server.setHandler(new Routes(scrapes, health, security.token(), metrics));
        try {
            server.start();
        } catch (Exception e) {
            try {
                server.stop();
            } catch (Exception alsoFailed) {
                e.addSuppressed(alsoFailed);
            }
            // Jetty's "Failed to bind to ..." leaves out why; the cause says it ("Address already in use").
            String why = e.getCause() == null ? e.getMessage() : e.getMessage() + ": " + e.getCause().getMessage();
            throw new UncheckedIOException("cannot listen for HTTP on " + bind + ":" + port + ": " + why,
                    e instanceof IOException io ? io : new IOException(e));
        }
        if (security.token() != null && !security.https()) {
            log.warn("/metrics requires a token, but over plain HTTP it crosses the network in clear: give the HTTP"
                    + " port a certificate (--http-tls-cert, --http-tls-key)");
        }
        return new HttpEndpoint(server, connector, scrapes);
    }

    /**
     * TLS in front of HTTP: our context, and on each engine our parameters over whatever Jetty chose, so that the
     * protocols and suites are the project's {@code TlsPolicy}, exactly as on the sensor port, not Jetty's lists.
     */
    private static SslConnectionFactory tls(Supplier<ServerTls> tls) {
        var factory = new CurrentTlsFactory(tls);
        // Jetty will not start without a context; engines are made from the current one (see CurrentTlsFactory).
        factory.setSslContext(tls.get().context());
        // TLS 1.2 renegotiation lets a client make the server redo the costly half of a handshake at will.
        factory.setRenegotiationAllowed(false);
        var ssl = new SslConnectionFactory(factory, HttpVersion.HTTP_1_1.asString());
        // Jetty would add its SecureRequestCustomizer, whose SNI and Host checks rest on certificates Jetty loads
        // itself (ours come in an SSLContext, so it knows none). No answer here depends on the request being secure.
        ssl.setEnsureSecureRequestCustomizer(false);
        return ssl;
    }

    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() {
        scrapes.close();
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop the HTTP endpoint", e);
        }
    }

    /**
     * {@code /metrics} (behind the token, when there is one) and {@code /health}; any other path is left to Jetty,
     * which answers 404.
     */
    private static final class Routes extends Handler.Abstract {

        private static final String CHALLENGE = "Bearer realm=\"serveur\"";

        private final SharedScrape metrics;
        private final Supplier<Health> health;
        /** Asked at each request, so that a token file re-read is required from the next request on. */
        private final Supplier<BearerToken> token;
        private final ServeurMetrics counters;
        /** Guarded by itself: Jetty answers on several threads. */
        private final LogBudget refusals = new LogBudget(log, "refused /metrics requests", 1, REFUSAL_LOG_WINDOW);

        Routes(SharedScrape metrics, Supplier<Health> health, Supplier<BearerToken> token, ServeurMetrics counters) {
            this.metrics = metrics;
            this.health = health;
            this.token = token;
            this.counters = counters;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = Request.getPathInContext(request);
            if (!path.equals("/metrics") && !path.equals("/health")) {
                return false;
            }
            if (path.equals("/metrics") && token != null
                    && !token.get().accepts(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
                refuse(request, response, callback);
            } else if (!HttpMethod.GET.is(request.getMethod()) && !HttpMethod.HEAD.is(request.getMethod())) {
                response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
                respond(response, callback, 405, "text/plain; charset=utf-8",
                        StandardCharsets.UTF_8.encode("only GET\n"));
            } else if (path.equals("/metrics")) {
                metrics.request(new SharedScrape.Answer() {
                    @Override
                    public void text(byte[] utf8) {
                        respond(response, callback, 200, "text/plain; version=0.0.4; charset=utf-8",
                                ByteBuffer.wrap(utf8).asReadOnlyBuffer());
                    }

                    @Override
                    public void failed(Throwable why) {
                        callback.failed(why);
                    }
                });
            } else {
                Health now = health.get();
                respond(response, callback, now.healthy() ? 200 : 503, "application/json",
                        StandardCharsets.UTF_8.encode(now.toJson()));
            }
            return true;
        }

        /** 401: the client learns nothing else, not even whether its token was missing or wrong. */
        private void refuse(Request request, Response response, Callback callback) {
            counters.httpUnauthorized();
            boolean logIt;
            synchronized (refusals) {
                logIt = refusals.allow(System.nanoTime());
            }
            if (logIt) {
                log.warn("refused /metrics to {}: {} (serveur_http_unauthorized_total counts every refusal)",
                        Request.getRemoteAddr(request),
                        request.getHeaders().contains(HttpHeader.AUTHORIZATION) ? "wrong token" : "no token");
            }
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, CHALLENGE);
            respond(response, callback, 401, "text/plain; charset=utf-8",
                    StandardCharsets.UTF_8.encode("unauthorized\n"));
        }

        /** Jetty sets Content-Length from this single write, and sends no body to a HEAD. */
        private static void respond(Response response, Callback callback, int status, String type, ByteBuffer body) {
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
            response.write(true, body, callback);
        }
    }

    /**
     * Jetty's server-side TLS factory with each new engine made from the {@link ServerTls} current when the
     * connection is accepted, as the sensor port does: a certificate re-read by the reload thread is served from the
     * next connection on, and connections open keep theirs. Jetty's own {@code reload}, the other way, would have
     * the reload thread unload Jetty's context and load the new one, and a load that failed would leave the port
     * with no context at all ("SslContextFactory reload failed" for every connection); here nothing of Jetty's is
     * touched after it starts, and a renewal costs the thread nothing but the files' reading.
     */
    private static final class CurrentTlsFactory extends SslContextFactory.Server {

        private final Supplier<ServerTls> tls;

        CurrentTlsFactory(Supplier<ServerTls> tls) {
            this.tls = tls;
        }

        @Override
        public SSLEngine newSSLEngine() {
            ServerTls now = tls.get();
            return customized(now, now.context().createSSLEngine());
        }

        @Override
        public SSLEngine newSSLEngine(String host, int port) {
            ServerTls now = tls.get();
            // Jetty keys its session cache by the peer's address only when caching is on; so does this.
            SSLEngine engine = isSessionCachingEnabled() ? now.context().createSSLEngine(host, port)
                    : now.context().createSSLEngine();
            return customized(now, engine);
        }

        /** Jetty's settings, then the policy's parameters of the same {@link ServerTls} over them. */
        private SSLEngine customized(ServerTls now, SSLEngine engine) {
            customize(engine);
            engine.setSSLParameters(now.parameters());
            return engine;
        }
    }

    /**
     * Closes each connection {@link #DEADLINE} after it opened, and the oldest one when more than
     * {@link #MAX_CONNECTIONS} are open: a request answered in milliseconds (a health check) then never waits behind
     * clients that hold connections without finishing their requests, and those lose their oldest ones first.
     */
    private static final class ConnectionGuard implements Connection.Listener {

        private final Scheduler scheduler;
        /** In the order they opened; guarded by {@code this} (Jetty calls from its selector and timer threads). */
        private final Map<Connection, Scheduler.Task> open = new LinkedHashMap<>();

        ConnectionGuard(Scheduler scheduler) {
            this.scheduler = scheduler;
        }

        @Override
        public void onOpened(Connection connection) {
            if (connection.getEndPoint() instanceof EndPoint.Wrapper) {
                // Over TLS a socket has two connections: TLS on the socket, HTTP on its decrypted end point. The
                // first stands for the socket (closing it closes both); counting the second would halve the limit.
                return;
            }
            Scheduler.Task deadline = scheduler.schedule(connection.getEndPoint()::close, DEADLINE);
            Connection oldest = null;
            synchronized (this) {
                open.put(connection, deadline);
                if (open.size() > MAX_CONNECTIONS) {
                    var first = open.entrySet().iterator().next();
                    oldest = first.getKey();
                    first.getValue().cancel();
                    open.remove(oldest);
                }
            }
            if (oldest != null) {
                oldest.getEndPoint().close();
            }
        }

        @Override
        public void onClosed(Connection connection) {
            Scheduler.Task task;
            synchronized (this) {
                task = open.remove(connection);
            }
            if (task != null) {
                task.cancel();
            }
        }
    }
}
