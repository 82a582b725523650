package fr.mesures.serveur;

import fr.mesures.common.log.LogBudget;
import fr.mesures.common.tls.PeerIdentities;
import fr.mesures.protocole.ConnectionReason;
import fr.mesures.protocole.ReadingDecoder;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.Reply;
import fr.mesures.protocole.SafeText;
import fr.mesures.protocole.Timestamps;
import fr.mesures.serveur.auth.AuthFailure;
import fr.mesures.serveur.auth.AuthSettings;
import fr.mesures.serveur.auth.Credential;
import fr.mesures.serveur.auth.Credentials;
import fr.mesures.serveur.ingest.DecodeWorkers;
import fr.mesures.serveur.ingest.FailFast;
import fr.mesures.serveur.ingest.FrameBatch;
import fr.mesures.serveur.ingest.InjectedFault;
import fr.mesures.serveur.ingest.StoreHealth;
import fr.mesures.serveur.ingest.StoreWriter;
import fr.mesures.serveur.memory.Footprint;
import fr.mesures.serveur.memory.MemoryBudget;
import fr.mesures.serveur.metrics.Health;
import fr.mesures.serveur.metrics.HttpEndpoint;
import fr.mesures.serveur.metrics.HttpSecurity;
import fr.mesures.serveur.metrics.ServeurMetrics;
import fr.mesures.serveur.network.ListenSettings;
import fr.mesures.serveur.network.Serveur;
import fr.mesures.serveur.network.TlsListen;
import fr.mesures.serveur.protocol.FrameScanner;
import fr.mesures.serveur.protocol.Replies;
import fr.mesures.serveur.reload.Reloader;
import fr.mesures.serveur.storage.MesureStore;
import fr.mesures.serveur.storage.ReadingBlock;
import fr.mesures.serveur.storage.StoreException;
import fr.mesures.serveur.storage.Stores;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The temperature service: a {@link Serveur} that cuts each connection's bytes into JSON values, has a worker pool
 * decode and validate them, a single writer commit them to the store, and acknowledges them once committed.
 *
 * <pre>
 * socket -> frame (selector thread) -> decode + validate (workers) -> group commit (writer) -> ack (selector thread)
 * </pre>
 *
 * <p>Work moves in {@link FrameBatch batches} (the values cut in one selector round), never one task per reading.
 * Every byte held for a client is charged to one {@link MemoryBudget}, kept by the selector thread: values in flight
 * between cutting and acknowledging, at their worst-case cost until a worker has decoded them and at what they
 * really hold after, and what a connection holds (its partial value, its
 * reply lines, its unwritten output). A connection is read only as much as its share allows; at zero the selector
 * stops reading it, so TCP pushes back on the client and nothing is dropped; acknowledgements free the budget and
 * reading resumes.
 *
 * <p><b>Authentication.</b> On a server with credentials or client certificates, a connection's first value is
 * cut alone and nothing more is read from it until a worker has decoded it and this thread has decided
 * ({@link SensorConnection.Auth}): a token ({@code {"auth": ...}}) is checked here, against the credentials of the
 * moment, and answered {@code {"auth":"ok"}} at once; a refusal is answered after {@link AuthSettings#failureDelay()}
 * (the connection is paused meanwhile, which costs no thread) and the connection closed. Each value carries the
 * permit of its connection as it was when the value was cut, and the workers reject a reading it does not allow
 * ({@code forbidden}), so a decision never races a value. A credential removed from the file closes its connections
 * when the file is next read.
 *
 * <p>A pipeline thread that dies ({@link FailFast}) turns {@code /health} to 503; the program then stops. The
 * settings' {@link fr.mesures.serveur.reload.Reloader} (the TLS certificate's files...) runs from {@link #start()}
 * to {@link #close()}, and dies the same way.
 */
public final class ServeurTCP extends Serveur<SensorConnection> {

    private static final Logger log = LoggerFactory.getLogger(ServeurTCP.class);

    /** A batch is handed on once it holds this much, or at the end of the selector round. */
    private static final int BATCH_BYTES = 256 * 1024;
    /**
     * Or this many values: a flood of two-byte values would otherwise make index arrays of megabytes, which the
     * garbage collector allocates outside its young generation (humongous objects) and collects only in pauses.
     */
    private static final int BATCH_FRAMES = 8192;
    private static final long HEAP = Runtime.getRuntime().maxMemory();
    /**
     * What a refused connection is read at a time, to be dropped, and in all: enough for what a client pipelined
     * behind its token; past it, it is no longer read (a client that floods a refused connection only fills its own
     * socket until the close).
     */
    private static final long DISCARD_BYTES = 16 * 1024;
    private static final long MAX_DISCARD_BYTES = 32L << 20;
    private static final long IDLE_RESUME_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final ServeurSettings settings;
    private final Clock clock;
    private final MesureStore store;
    private final ServeurMetrics metrics;
    private final MemoryBudget budget;
    private final FailFast failFast = new FailFast();
    private final InjectedFault fault;
    private final DecodeWorkers workers;
    private final StoreWriter writer;
    private final Queue<FrameBatch> decoded = new ConcurrentLinkedQueue<>();
    // Selector thread: connections an acknowledgement made room for, resumed once it is done.
    private final java.util.Set<SensorConnection> toResume = new java.util.LinkedHashSet<>();
    private final Queue<List<FrameBatch>> committed = new ConcurrentLinkedQueue<>();
    private final FrameScanner.Sink framing = new Framing();
    private final LogBudget rejections = new LogBudget(log, "rejected values", 10, Duration.ofSeconds(10));
    private final LogBudget refusals = new LogBudget(log, "refused connections", 10, Duration.ofSeconds(10));
    private final LogBudget handshakeFailures = new LogBudget(log, "failed TLS handshakes", 10,
            Duration.ofSeconds(10));
    private final LogBudget authWarnings = new LogBudget(log, "failed authentications", 1, Duration.ofSeconds(1));
    private final AtomicBoolean closed = new AtomicBoolean();
    private HttpEndpoint http;
    private final AuthSettings auth;
    private final boolean clientCertificates;
    /** Whether connections must be decided on before their values are cut freely: credentials or certificates. */
    private final boolean authConfigured;
    private final Supplier<Credentials> credentials;

    // Selector thread only, except the volatile copies, which the metrics read.
    private FrameBatch building;
    private long nextSeq;
    private int inFlightBatches;
    private SensorConnection scanning;
    private long scanningNanos;
    private volatile long queued;
    private volatile long inFlightSeen;
    private volatile long heldSeen;
    /** What open connections themselves cost ({@link MemoryBudget#connectionCost}); selector thread. */
    private long connectionBytes;
    // Selector thread: authentication. Connections whose first value is being decoded; connections with an identity
    // (for revocation); refusals waiting out their delay, in the order they are due (the delay is fixed).
    private int gatesPending;
    private long idleResumeNanos = System.nanoTime();
    private final Set<SensorConnection> authenticated = new HashSet<>();
    private final ArrayDeque<Refusal> refusalsDue = new ArrayDeque<>();
    private Credentials credentialsSeen;

    private record Refusal(SensorConnection connection, long dueNanos, ConnectionReason reason, String message) {
    }

    /**
     * Opens the store (creating or migrating it) and prepares the threads; {@link #start()} starts them.
     *
     * @throws StoreException           when the store cannot be opened or written
     * @throws IllegalArgumentException when the settings cannot work with this heap (a value larger than the memory
     *                                  a connection may hold)
     */
    public ServeurTCP(ServeurSettings settings) throws StoreException {
        this(settings, Clock.systemUTC(), Stores.open(settings.store(), settings.sqlite(),
                Footprint.maxReadingsIn(MemoryBudget.forHeap(HEAP, settings.maxMessageBytes()).inFlightLimit())),
                InjectedFault.fromSystemProperty());
    }

    /** With the clock that stamps receive times and an open store, which this server closes. */
    ServeurTCP(ServeurSettings settings, Clock clock, MesureStore store) {
        this(settings, clock, store, InjectedFault.NONE);
    }

    /** The same, with a fault to inject (the fault tests' seam). */
    ServeurTCP(ServeurSettings settings, Clock clock, MesureStore store, InjectedFault fault) {
        this(settings, clock, store, fault, MemoryBudget.forHeap(HEAP, settings.maxMessageBytes()));
    }

    /** The same, with a budget of its own (a test's, smaller than the heap's, to reach its limits quickly). */
    ServeurTCP(ServeurSettings settings, Clock clock, MesureStore store, InjectedFault fault, MemoryBudget budget) {
        super(withinHeap(settings.listen()), "serveur-selector");
        this.settings = settings;
        this.clock = clock;
        this.store = store;
        this.fault = fault;
        this.budget = budget;
        this.auth = settings.auth();
        this.clientCertificates = ServeurSettings.clientCertificates(settings.listen());
        this.credentials = credentialsOf(auth, settings.reloader());
        this.credentialsSeen = credentials.get();
        this.authConfigured = auth.credentials() != null || clientCertificates;
        this.metrics = new ServeurMetrics(settings.maxSensorGauges());
        this.writer = new StoreWriter(store, settings.maxBatchRows(), metrics, this::onCommitted, failFast, fault);
        this.workers = new DecodeWorkers(settings.workers(), settings.rules(), metrics, this::onDecoded, failFast,
                fault);
        metrics.gauge("serveur.connections.active", "Connections open now", this, ServeurTCP::activeConnections);
        metrics.gauge("serveur.connections.paused",
                "Connections not being read because they are at their share of the memory budget", this,
                ServeurTCP::pausedConnections);
        metrics.gauge("serveur.queue.readings", "Values received and not yet stored or rejected", this,
                s -> s.queued);
        metrics.gauge("serveur.memory.inflight.bytes",
                "Memory charged to values between receipt and acknowledgement (worst case)", this,
                s -> s.inFlightSeen);
        metrics.gauge("serveur.memory.inflight.limit.bytes", "The limit of serveur_memory_inflight_bytes", this,
                s -> s.budget.inFlightLimit());
        metrics.gauge("serveur.memory.held.bytes",
                "Memory held for connections beyond their reserves (partial values, reply lines, unwritten output)",
                this, s -> s.heldSeen);
        metrics.gauge("serveur.memory.held.limit.bytes", "The limit of serveur_memory_held_bytes", this,
                s -> s.budget.heldLimit());
        settings.reloader().eachWatched(metrics::reloadWatched);
        if (settings.listen().tls() != null) {
            metrics.gauge("serveur.tls.certificate.expiry.seconds",
                    "Seconds until the certificate served to new TLS connections expires", settings.listen().tls(),
                    TlsListen::certificateExpirySeconds);
        }
    }

    /** The credentials file, read now (a broken one stops the start) and again whenever it changes. */
    private static Supplier<Credentials> credentialsOf(AuthSettings auth, Reloader reloader) {
        Path file = auth.credentials();
        if (file == null) {
            return () -> Credentials.NONE;
        }
        try {
            return reloader.watch("credentials", List.of(file), () -> Credentials.read(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The connection limit, lowered to what the heap can hold (with a warning) when it is set higher. */
    private static ListenSettings withinHeap(ListenSettings listen) {
        int affordable = MemoryBudget.connectionsFor(HEAP);
        if (listen.maxConnections() <= affordable) {
            return listen;
        }
        log.warn("a heap of {} MiB holds at most {} connections; --max-connections {} is lowered to that (raise -Xmx"
                + " to hold more)", HEAP >> 20, affordable, listen.maxConnections());
        return listen.withMaxConnections(affordable);
    }

    /**
     * Starts the writer, the workers, the selector thread and the HTTP endpoint.
     *
     * @throws java.io.UncheckedIOException when a port cannot be bound (everything started is stopped again)
     */
    @Override
    public void start() {
        try {
            store.start(failFast::report);
            writer.start();
            workers.start();
            super.start();
            if (settings.httpPort() >= 0) {
                http = HttpEndpoint.start(settings.listen().bind(), settings.httpPort(), settings.httpSecurity(),
                        metrics, this::health);
            }
            settings.reloader().start(failFast);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        // The start of this line is read by scripts and tests: "listening on ADDRESS:PORT (HTTP PORT)".
        log.info("serveur listening on {}:{} (HTTP {}){}{}, storing in {}, {} workers, memory for clients: {} MiB"
                + " in flight, {} MiB held, {} connections", settings.listen().bind(),
                port() < 0 ? "off" : String.valueOf(port()), http == null ? "off" : String.valueOf(http.port()),
                tlsPort() < 0 ? "" : ", TLS on " + tlsPort(), http == null ? "" : httpSecurityNote(),
                store.describe(), settings.workers(),
                budget.inFlightLimit() >> 20, budget.heldLimit() >> 20, listenSettings().maxConnections());
        if (auth.required() && port() >= 0 && !auth.allowPlaintext()) {
            // Client certificates exist only on the TLS port, and tokens are refused on this one.
            log.warn("the plaintext port {} takes no reading: authentication is required and tokens are accepted"
                    + " only over TLS (--allow-plaintext-auth changes that); --port -1 closes it", port());
        }
    }

    /** How the HTTP port is protected, for the first log line; nothing when it is plain and open. */
    private String httpSecurityNote() {
        HttpSecurity security = settings.httpSecurity();
        String token = security.token() == null ? "" : ", /metrics with a token";
        return security.https() ? ", HTTPS on the HTTP port" + token : token;
    }

    /** The HTTP port, or -1 when the HTTP endpoint is off. */
    public int httpPort() {
        return http == null ? -1 : http.port();
    }

    public ServeurMetrics metrics() {
        return metrics;
    }

    public Health health() {
        StoreHealth storeHealth = writer.health();
        return new Health(listening(), store.describe(), storeHealth.writable(), storeHealth.problem(),
                storeHealth.sinceMillis(), activeConnections(), queued, failFast.failure());
    }

    /** Waits until a thread of the pipeline dies or the time is up; true when one died (see {@link FailFast}). */
    public boolean awaitFailure(long timeout, TimeUnit unit) throws InterruptedException {
        return failFast.await(timeout, unit);
    }

    /**
     * Graceful stop: no new connections, no more reading, every value already received stored and acknowledged
     * (unless a pipeline thread died: then what can no longer be stored is not waited for), then the threads stop
     * and the store closes. Safe to call more than once.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        settings.reloader().close();
        super.close();
        workers.close();
        writer.close();
        if (http != null) {
            http.close();
        }
        store.close();
        metrics.close();
        log.info("serveur stopped");
    }

    // ------------------------------------------------------------------------------------------ selector hooks

    @Override
    protected SensorConnection newConnection(long id, SocketChannel channel, SelectionKey key, long nowNanos) {
        return new SensorConnection(id, channel, key, nowNanos, settings.maxMessageBytes());
    }

    @Override
    protected void onOpen(SensorConnection connection) {
        metrics.connectionOpened(connection.tls());
        connectionBytes += MemoryBudget.connectionCost(connection.tls(), connection.handshaking());
        if (authConfigured) {
            connection.permit(auth.required() ? Credential.NOBODY : null);
            connection.auth(SensorConnection.Auth.AWAITING);
            long handshake = connection.tls() ? listenSettings().tls().handshakeTimeout().toNanos() : 0;
            connection.authDeadlineNanos(System.nanoTime() + handshake + AuthSettings.DEADLINE.toNanos());
        }
    }

    /**
     * The connections' own memory is bounded by count for plaintext ones ({@link #withinHeap}); a TLS connection
     * costs ten times as much during its handshake and five times after, so a heap that holds 10,000 plaintext
     * connections admits about 1,100 TLS handshakes at once and holds about 2,000 established TLS connections; the
     * next is refused as over the limit.
     */
    @Override
    protected boolean admit(boolean tls) {
        return connectionBytes + MemoryBudget.connectionCost(tls, tls) <= MemoryBudget.connectionBytesFor(HEAP);
    }

    @Override
    protected void onHandshake(SensorConnection connection) {
        metrics.tlsHandshake();
        connectionBytes += MemoryBudget.connectionCost(true, false) - MemoryBudget.connectionCost(true, true);
        if (clientCertificates) {
            // The engine checked the chain against the client CA; a client without one (optional mode) stays as is.
            PeerIdentities.of(connection.tlsSession()).ifPresent(subject -> {
                connection.permit(credentials.get().forCertificate(subject));
                authenticated.add(connection);
                metrics.authSucceeded(false);
            });
        }
    }

    @Override
    protected void onHandshakeFailed(SensorConnection connection, String reason, String detail) {
        metrics.tlsHandshakeFailed(reason);
        if (handshakeFailures.allow(System.nanoTime())) {
            log.warn("{}: TLS handshake failed ({}): {}", connection, reason, SafeText.bounded(String.valueOf(detail)));
        }
    }

    @Override
    protected byte[] onRefused() {
        metrics.connectionRefused();
        // Two limits: the count, and the memory connections cost (a TLS handshake ten times a plaintext connection).
        String limit = activeConnections() >= listenSettings().maxConnections()
                ? "its limit of " + listenSettings().maxConnections() + " connections"
                : "the memory it keeps for connections (" + (MemoryBudget.connectionBytesFor(HEAP) >> 20)
                        + " MiB; a TLS handshake costs about ten plaintext connections)";
        if (refusals.allow(System.nanoTime())) {
            log.warn("refused a connection: at {}", limit);
        }
        return Reply.Error.ofConnection(ConnectionReason.TOO_MANY_CONNECTIONS, "the server is at " + limit
                + "; try again later").toJson().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected void onInput(SensorConnection connection, byte[] data, int length) {
        metrics.bytesReceived(length);
        if (connection.auth() == SensorConnection.Auth.REFUSED) {
            connection.discarded(length); // read only to be dropped, see stopTaking()
            return;
        }
        scan(connection, data, length);
    }

    /**
     * Cuts the connection's values out of {@code data[0, length)}, charging each as it is cut; when its room in
     * flight runs out the cut stops there and the rest is kept for the connection, to be cut once it has room
     * again ({@link #onResume}).
     */
    private void scan(SensorConnection connection, byte[] data, int length) {
        scanning = connection;
        scanningNanos = System.nanoTime();
        long before = connection.account().inFlight();
        int scanned = connection.scanner().scan(data, 0, length, framing);
        connection.scanned(scanned, connection.account().inFlight() - before);
        scanning = null;
        connection.unscanned(data, scanned, length);
        connection.partialValue(connection.scanner().bufferedBytes() > 0, scanningNanos);
        updateHeld(connection);
        if (scanned < length) {
            // Its socket may have nothing more to say until it hears back: resuming must not wait for it. (One
            // stopped for its authentication waits for no memory, and must not shrink others' shares.)
            if (!connection.authBlocked()) {
                budget.waiting(connection.account(), true);
            }
            pauseReading(connection);
        }
    }

    /**
     * Cuts what the connection left unscanned, if it has room for it; true once nothing is left and it may read
     * (otherwise it stays paused, and costs nothing until a pool has room again).
     */
    @Override
    protected boolean onResume(SensorConnection connection) {
        if (connection.auth() == SensorConnection.Auth.PENDING) {
            return false;
        }
        if (connection.auth() == SensorConnection.Auth.REFUSED) {
            return connection.discarded() < MAX_DISCARD_BYTES;
        }
        byte[] left = connection.unscanned();
        if (left.length > 0 && budget.inFlightRoom(connection.account()) > 0) {
            scan(connection, left, left.length);
        }
        if (readLimit(connection) > 0) {
            budget.waiting(connection.account(), false);
            return true;
        }
        return false;
    }

    @Override
    protected void onEndOfInput(SensorConnection connection) {
        if (connection.auth() == SensorConnection.Auth.REFUSED) {
            return; // its refusal closes it, error line first
        }
        scanning = connection;
        connection.scanner().endOfInput(framing);
        scanning = null;
        connection.partialValue(false, 0);
        updateHeld(connection);
        if (connection.allHandled()) {
            closeWhenFlushed(connection);
        }
    }

    @Override
    protected long readLimit(SensorConnection connection) {
        if (connection.auth() == SensorConnection.Auth.REFUSED) {
            return connection.discarded() < MAX_DISCARD_BYTES ? DISCARD_BYTES : 0;
        }
        if (connection.unscanned().length > 0 || connection.authBlocked()) {
            return 0;
        }
        MemoryBudget.Account account = connection.account();
        long limit = budget.readLimit(account, connection.scanner().maxScan(budget.holdRoom(account)),
                connection.costPerByte());
        if (limit == 0 && drainsTls(connection)) {
            limit = Math.min(connection.tlsHeld(), MemoryBudget.MIN_READ);
        }
        if (limit == 0) {
            // Stopped for lack of room: it counts among those sharing the budget until it is read again.
            budget.waiting(account, true);
        }
        return limit;
    }

    /**
     * Idle as any TCP connection, or holding a partial value that did not end within the idle timeout of its start,
     * when that value outgrew the connection's reserve or the connection is paused (for lack of memory, it cannot
     * finish it): a client that starts large values and never finishes them would otherwise keep that memory,
     * and its connection, for as long as it sends a byte now and then. A value within the reserve, arriving
     * slowly, is left alone.
     */
    @Override
    protected boolean expired(SensorConnection connection, long nowNanos) {
        return super.expired(connection, nowNanos) || valueTimedOut(connection, nowNanos)
                || authOverdue(connection, nowNanos);
    }

    private boolean authOverdue(SensorConnection connection, long nowNanos) {
        return auth.required() && (connection.auth() == SensorConnection.Auth.AWAITING
                || connection.auth() == SensorConnection.Auth.PENDING)
                && nowNanos - connection.authDeadlineNanos() > 0;
    }

    private boolean valueTimedOut(SensorConnection connection, long nowNanos) {
        return !connection.inputEnded() && connection.scanner().bufferedBytes() > 0
                && (connection.scanner().carryFootprint() > Footprint.RESERVE || connection.paused())
                && nowNanos - connection.partialSinceNanos() > settings.listen().idleTimeout().toNanos();
    }

    @Override
    protected void onIdle(SensorConnection connection) {
        long seconds = settings.listen().idleTimeout().toSeconds();
        if (authOverdue(connection, System.nanoTime())) {
            connection.auth(SensorConnection.Auth.REFUSED);
            metrics.authFailed(AuthFailure.MISSING);
            connection.replies().notice(ConnectionReason.AUTH_REQUIRED, "no authentication within "
                    + AuthSettings.DEADLINE.toSeconds() + " s: send {\"auth\": \"TOKEN\"} as the first value;"
                    + " closing the connection");
        } else if (valueTimedOut(connection, System.nanoTime())) {
            metrics.connectionValueTimedOut();
            connection.replies().notice(ConnectionReason.VALUE_TIMEOUT, "a value started " + seconds
                    + " s ago is not finished (" + connection.scanner().bufferedBytes()
                    + " bytes so far); closing the connection");
        } else {
            metrics.connectionIdleClosed();
            connection.replies().notice(ConnectionReason.IDLE_TIMEOUT, "no data for " + seconds
                    + " s; closing the connection");
        }
        updateHeld(connection);
    }

    @Override
    protected void onFlushed(SensorConnection connection) {
        updateHeld(connection);
    }

    @Override
    protected void onClosed(SensorConnection connection) {
        connectionBytes -= MemoryBudget.connectionCost(connection.tls(), connection.handshaking());
        authenticated.remove(connection);
        // Its values in flight stay charged until their acknowledgement comes back (and finds it closed).
        budget.hold(connection.account(), 0);
        budget.waiting(connection.account(), false);
        maybeResume();
    }

    @Override
    protected void afterReads() {
        long now = System.nanoTime();
        if (inFlightBatches == 0 && building == null && hasPausedConnections() && now - idleResumeNanos > 0) {
            // Nothing in flight, so no acknowledgement will come to resume anyone: those paused for the held pool
            // (TLS channels holding records) are asked here, a few times a second.
            idleResumeNanos = now + IDLE_RESUME_NANOS;
            resumeReading();
        }
        if (authConfigured) {
            refuseDue(now);
            revokeRemoved();
        }
        dispatch();
        inFlightSeen = budget.inFlight();
        heldSeen = budget.heldPool();
    }

    @Override
    protected void fillOutput(SensorConnection connection, ByteBuffer out, boolean finalFlush) {
        connection.replies().fill(out, finalFlush || connection.inputEnded() || connection.closing());
    }

    @Override
    protected boolean isDrained() {
        // After a pipeline thread died, what is in flight may never come back: stop waiting for it.
        return (inFlightBatches == 0 && building == null) || failFast.failure() != null;
    }

    @Override
    protected void onDrainStart() {
        dispatch();
    }

    @Override
    protected void onFailure(Throwable error) {
        failFast.report(error);
    }

    // ------------------------------------------------------------------------------------------ the pipeline

    /** Receives the values the scanner cuts from the connection being read, and charges each to it. */
    private final class Framing implements FrameScanner.Sink {
        @Override
        public void value(byte[] data, int offset, int length) {
            long index = nextValueIndex();
            batch().addValue(scanning, scanning.permit(), index, data, offset, length);
            budget.charge(scanning.account(), Footprint.value(data[offset], length));
            scanning.partialValue(false, scanningNanos);
            dispatchIfFull();
        }

        @Override
        public void rejected(RejectReason reason, String message) {
            long index = nextValueIndex();
            batch().addRejected(scanning, scanning.permit(), index, reason, message);
            budget.charge(scanning.account(), Footprint.rejectedValue());
            scanning.partialValue(false, scanningNanos);
            dispatchIfFull();
        }

        /**
         * The connection's room in flight is spent, or its authentication waits on the value just cut: the cut stops
         * after it.
         */
        @Override
        public boolean full() {
            return budget.inFlightRoom(scanning.account()) <= 0 || scanning.authBlocked();
        }
    }

    private long nextValueIndex() {
        long index = scanning.nextValueIndex();
        if (scanning.auth() == SensorConnection.Auth.PENDING && scanning.gateIndex() == index) {
            gatesPending++;
        }
        return index;
    }

    private void dispatchIfFull() {
        if (building.dataLength() >= BATCH_BYTES || building.frames() >= BATCH_FRAMES) {
            dispatch();
        }
    }

    private FrameBatch batch() {
        if (building == null) {
            building = new FrameBatch(nextSeq++, clock.millis(), 4096);
        }
        return building;
    }

    private void dispatch() {
        FrameBatch batch = building;
        if (batch == null) {
            return;
        }
        building = null;
        budget.charge(null, overhead(batch));
        inFlightBatches++;
        queued += batch.frames();
        workers.submit(batch);
    }

    private static long overhead(FrameBatch batch) {
        return Footprint.batchOverhead(batch.dataCapacity(), batch.dataLength(), batch.frameCapacity(),
                batch.frames());
    }

    /** A closed connection holds nothing, whatever its objects still reference until they are collected. */
    private void updateHeld(SensorConnection connection) {
        budget.hold(connection.account(), connection.closed() ? 0 : connection.heldBytes());
    }

    /**
     * Whether a connection without room to hold more may be read anyway: what its TLS channel holds (records taken
     * from the socket, up to about 33 KB) is already in memory, and reading it moves it on into values in flight,
     * which have room. Counted as held like the rest, these bytes could otherwise fill the pool by themselves, a
     * thousand TLS connections at full speed against 8 MiB, and stop every connection for good (TlsMemoryTest).
     */
    private boolean drainsTls(SensorConnection connection) {
        return connection.tls() && connection.tlsHeld() > 0 && budget.inFlightRoom(connection.account()) > 0;
    }

    private void maybeResume() {
        if (hasPausedConnections() && budget.resumable()) {
            resumeReading();
        }
    }

    /**
     * Worker thread: a batch is decoded. The selector charges what its frames now hold instead of their worst case;
     * the writer commits it.
     */
    private void onDecoded(FrameBatch batch) {
        decoded.add(batch);
        execute(this::settleDecoded);
        writer.submit(batch);
    }

    private void settleDecoded() {
        FrameBatch batch;
        while ((batch = decoded.poll()) != null) {
            if (gatesPending > 0) {
                decideAuthentication(batch);
            }
            settle(batch);
        }
    }

    // ------------------------------------------------------------------------------------------ authentication

    /**
     * Decides for each connection whose first value this batch decoded: a token is accepted or refused; an acks
     * request leaves the decision to the next value; anything else is a reading, refused where authentication is
     * required (the workers dropped it) and let through otherwise.
     */
    private void decideAuthentication(FrameBatch batch) {
        for (int frame = 0; frame < batch.frames(); frame++) {
            SensorConnection connection = (SensorConnection) batch.owner(frame);
            if (connection.auth() != SensorConnection.Auth.PENDING || connection.gateIndex() != batch.valueIndex(frame)) {
                continue;
            }
            gatesPending--;
            if (connection.closed()) {
                continue;
            }
            String token = tokenOf(batch, frame);
            if (token != null) {
                authenticate(connection, token);
            } else if (acksRequestOnly(batch, frame)) {
                connection.auth(SensorConnection.Auth.AWAITING);
                resumeReading(connection);
            } else if (connection.permit() == Credential.NOBODY) {
                refuse(connection, AuthFailure.MISSING, "authentication required: send {\"auth\": \"TOKEN\"} as the"
                        + " first value" + (clientCertificates ? ", or connect with a client certificate" : "")
                        + "; nothing of this connection was stored");
            } else {
                connection.auth(SensorConnection.Auth.OPEN);
                resumeReading(connection);
            }
        }
    }

    private static String tokenOf(FrameBatch batch, int frame) {
        for (FrameBatch.AuthRequest request : batch.authRequests()) {
            if (request.frame() == frame) {
                return request.token();
            }
        }
        return null;
    }

    private static boolean acksRequestOnly(FrameBatch batch, int frame) {
        for (FrameBatch.AcksRequest request : batch.acksRequests()) {
            if (request.frame() == frame) {
                return true;
            }
        }
        return false;
    }

    /** Checks a token against the credentials of the moment: a SHA-256 and a lookup, a microsecond or two. */
    private void authenticate(SensorConnection connection, String token) {
        if (!connection.tls() && !auth.allowPlaintext()) {
            refuse(connection, AuthFailure.PLAINTEXT, "authentication failed: tokens are not accepted on the"
                    + " plaintext port, where anyone on the path could read them; connect with TLS"
                    + (tlsPort() >= 0 ? " (port " + tlsPort() + ")" : ""));
            return;
        }
        if (token.isEmpty()) {
            refuse(connection, AuthFailure.MALFORMED, "authentication failed: \"auth\" must be the token, a string"
                    + " of 1 to " + ReadingDecoder.MAX_TOKEN_CHARS + " characters");
            return;
        }
        Optional<Credential> credential = credentials.get().forToken(token);
        if (credential.isEmpty()) {
            refuse(connection, AuthFailure.UNKNOWN_TOKEN, "authentication failed: unknown token (wrong, or revoked)");
            return;
        }
        connection.permit(credential.get());
        connection.auth(SensorConnection.Auth.OPEN);
        authenticated.add(connection);
        metrics.authSucceeded(true);
        log.debug("{}: authenticated as {}", connection, credential.get().name());
        connection.replies().authAccepted();
        requestFlush(connection);
        resumeReading(connection);
    }

    /**
     * Refuses the connection: nothing more of it is taken ({@link #stopTaking}), and after the failure delay it gets
     * its error line and is closed. The delay holds a connection, not a thread: guessing tokens costs a client a
     * second each, and the connection limit bounds how many it can try at once.
     */
    private void refuse(SensorConnection connection, AuthFailure failure, String message) {
        stopTaking(connection);
        metrics.authFailed(failure);
        long now = System.nanoTime();
        if (authWarnings.allow(now)) {
            log.warn("{}: authentication failed ({}): {}", connection, failure.label(), message);
        }
        refusalsDue.add(new Refusal(connection, now + auth.failureDelay().toNanos(), failure.reply(), message));
    }

    /**
     * Takes nothing more from the connection, and reads what it sends only to drop it: a client still writing
     * readings behind its token would otherwise fill both sockets' buffers, block in its write, and have that write
     * fail when the close resets the connection, before it ever reads its error line (AuthTest, 20 MB).
     */
    private void stopTaking(SensorConnection connection) {
        connection.auth(SensorConnection.Auth.REFUSED);
        connection.dropUnscanned();
        updateHeld(connection);
        resumeReading(connection);
    }

    private void refuseDue(long now) {
        authWarnings.roll(now);
        Refusal due;
        while ((due = refusalsDue.peek()) != null && now - due.dueNanos() >= 0) {
            refusalsDue.poll();
            SensorConnection connection = due.connection();
            if (!connection.closed()) {
                connection.replies().notice(due.reason(), due.message());
                updateHeld(connection);
                closeWhenFlushed(connection);
            }
        }
    }

    /** Closes the connections whose credential the credentials file no longer holds, once it has been re-read. */
    private void revokeRemoved() {
        Credentials now = credentials.get();
        if (now == credentialsSeen) {
            return;
        }
        credentialsSeen = now;
        // One line per credential, not per connection: a fleet's token may be held by thousands.
        Map<String, Integer> closed = new TreeMap<>();
        for (SensorConnection connection : List.copyOf(authenticated)) {
            if (!now.stillHolds(connection.permit()) && !connection.closed()) {
                authenticated.remove(connection);
                stopTaking(connection);
                metrics.connectionRevoked();
                closed.merge(connection.permit().name(), 1, Integer::sum);
                connection.replies().notice(ConnectionReason.REVOKED, "the credential \"" + connection.permit().name()
                        + "\" was revoked; closing the connection");
                updateHeld(connection);
                closeWhenFlushed(connection);
            }
        }
        closed.forEach((name, count) -> log.info("the credential {} was revoked: closing its {} connection(s)",
                SafeText.quote(name), count));
    }

    // ------------------------------------------------------------------------------------------ settling

    /**
     * Selector thread: gives back, frame by frame, what the worst case charged beyond what decoding made. Once
     * only: the acknowledgement may come first (the writer is quick, the selector's queue long), and settles it
     * then. A batch whose decoding failed says nothing and stays at its worst case until acknowledged.
     */
    private void settle(FrameBatch batch) {
        if (batch.settled() || batch.frames() == 0 || batch.decodedCost(0) < 0) {
            return;
        }
        batch.settled(true);
        for (int frame = 0; frame < batch.frames(); frame++) {
            SensorConnection connection = (SensorConnection) batch.owner(frame);
            budget.release(connection.account(), charged(batch, frame) - batch.decodedCost(frame));
        }
    }

    /** What the selector charged for a frame when it cut it. */
    private static long charged(FrameBatch batch, int frame) {
        int length = batch.length(frame);
        return length < 0 ? Footprint.rejectedValue() : Footprint.value(batch.data()[batch.offset(frame)], length);
    }

    /** Writer thread: a group is committed; the selector thread acknowledges it. */
    private void onCommitted(List<FrameBatch> group) {
        committed.add(group);
        execute(this::acknowledge);
    }

    /** Selector thread: turns committed batches into replies, and frees their share of the budget. */
    private void acknowledge() {
        long now = System.nanoTime();
        rejections.roll(now);
        refusals.roll(now);
        handshakeFailures.roll(now);
        List<FrameBatch> group;
        while ((group = committed.poll()) != null) {
            // Every batch of the group went into that queue before the writer had it: emptying it now keeps it
            // from holding batches acknowledged below, which nothing would count any more (it once held 73
            // acknowledged batches of 8,192 garbage lines, 125 MB, against a budget of 16 MiB).
            settleDecoded();
            for (FrameBatch batch : group) {
                fault.at("selector", batch.readings());
                settle(batch);
                new Acknowledgement(batch, now).run();
                budget.release(null, overhead(batch));
                inFlightBatches--;
                queued -= batch.frames();
            }
        }
        inFlightSeen = budget.inFlight();
        // Resumed only now, not as each ack frees its connection: resuming cuts what it kept, which makes work that
        // comes back as acks, and this loop would never end, holding the selector away from every other socket.
        for (SensorConnection connection : toResume) {
            if (connection.paused() && (budget.resumable(connection.account()) || drainsTls(connection))) {
                resumeReading(connection);
            }
        }
        toResume.clear();
        maybeResume();
    }

    /**
     * One batch's outcome told to its connections, frame by frame in order: each value's error lines (rejections,
     * then conflicts found by the store), then it counts as handled and its charge is given back.
     */
    private final class Acknowledgement {
        private final FrameBatch batch;
        private final long now;
        private final List<FrameBatch.FrameError> errors;
        private final List<FrameBatch.Unreported> unreported;
        private final List<FrameBatch.AcksRequest> acksRequests;
        private final ReadingBlock readings;
        private int nextError;
        private int nextUnreported;
        private int nextAcks;
        private int nextRow;

        Acknowledgement(FrameBatch batch, long now) {
            this.batch = batch;
            this.now = now;
            this.errors = batch.errors();
            this.unreported = batch.unreported();
            this.acksRequests = batch.acksRequests();
            this.readings = batch.readings();
        }

        void run() {
            long waited = now - batch.startedNanos();
            for (int frame = 0; frame < batch.frames(); frame++) {
                SensorConnection connection = (SensorConnection) batch.owner(frame);
                long index = batch.valueIndex(frame);
                while (nextError < errors.size() && errors.get(nextError).frame() == frame) {
                    FrameBatch.FrameError error = errors.get(nextError++);
                    tell(connection, index, error.element(), error.reason(), error.message());
                }
                while (nextUnreported < unreported.size() && unreported.get(nextUnreported).frame() == frame) {
                    int count = unreported.get(nextUnreported++).count();
                    connection.replies().dropped(count);
                    metrics.repliesDropped(count);
                }
                while (nextRow < readings.size() && readings.frame(nextRow) == frame) {
                    if (readings.outcome(nextRow) == ReadingBlock.Outcome.CONFLICT) {
                        tell(connection, index, readings.element(nextRow), RejectReason.CONFLICT,
                                conflict(nextRow));
                    }
                    nextRow++;
                }
                while (nextAcks < acksRequests.size() && acksRequests.get(nextAcks).frame() == frame) {
                    connection.replies().live(acksRequests.get(nextAcks++).acks());
                }
                // The readings of a connection refused for not authenticating were dropped (decided before this
                // ack: the decoded batch reached the selector first). An ack says "stored or rejected with an error
                // line", and the refusal names no value: a client took such an ack for stored.
                // So is the refused token itself: an ack would read as "accepted" to a client that does not wait for
                // the error line.
                boolean refusedHere = connection.auth() == SensorConnection.Auth.REFUSED
                        && (batch.permit(frame) == Credential.NOBODY || index == connection.gateIndex());
                if (!refusedHere) {
                    connection.replies().handled(index);
                    // Once per run of one connection's values (what one read of it cut): they waited alike, and a
                    // record per value (90 ns) would cost a flood of 8 M tiny values a second most of a core.
                    if (frame == 0 || batch.owner(frame - 1) != connection) {
                        metrics.acknowledged(waited);
                    }
                }
                budget.release(connection.account(), batch.settled() ? batch.decodedCost(frame)
                        : charged(batch, frame));
                if (connection.paused() && (budget.resumable(connection.account()) || drainsTls(connection))) {
                    toResume.add(connection);
                }
                if (connection.closed()) {
                    continue;
                }
                if (connection.inputEnded() && connection.allHandled()) {
                    closeWhenFlushed(connection);
                } else {
                    requestFlush(connection);
                }
            }
        }

        private String conflict(int row) {
            return readings.capteurId(row) + " already has a reading at " + Timestamps.formatIso(
                    readings.timestamp(row)) + " of " + readings.storedTemperature(row)
                    + " °C, which is kept; this one, of " + readings.temperature(row) + " °C, was not stored";
        }

        /** Queues the line if the connection may hold it, or counts it as dropped; logs it, within a budget. */
        private void tell(SensorConnection connection, long index, int element, RejectReason reason,
                String message) {
            if (rejections.allow(now)) {
                log.warn("{}: value {} rejected ({}): {}", connection, index, reason.label(), message);
            }
            if (connection.closed()) {
                return;
            }
            // The line is built only when it can be kept: a client that does not read gets millions of them, and
            // building each to drop it took most of the selector's time.
            if (connection.replies().errorsFull()) {
                connection.replies().dropped(1);
                metrics.repliesDropped(1);
                return;
            }
            byte[] line = Replies.line(Reply.Error.ofValue(index, element, reason, message));
            if (Footprint.line(line.length) <= budget.holdRoom(connection.account())) {
                connection.replies().error(line);
                updateHeld(connection);
            } else {
                connection.replies().dropped(1);
                metrics.repliesDropped(1);
            }
        }
    }
}
