package fr.mesures.serveur;

import fr.mesures.protocole.ConnectionReason;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.Reply;
import fr.mesures.serveur.ingest.DecodeWorkers;
import fr.mesures.serveur.ingest.FrameBatch;
import fr.mesures.serveur.ingest.StoreHealth;
import fr.mesures.serveur.ingest.StoreWriter;
import fr.mesures.serveur.metrics.Health;
import fr.mesures.serveur.metrics.HttpEndpoint;
import fr.mesures.serveur.metrics.ServeurMetrics;
import fr.mesures.serveur.metrics.WarningBudget;
import fr.mesures.serveur.network.Serveur;
import fr.mesures.serveur.protocol.FrameScanner;
import fr.mesures.serveur.storage.MesureStore;
import fr.mesures.serveur.storage.StoreException;
import fr.mesures.serveur.storage.Stores;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
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
 * Every hand-off is bounded by one budget, kept by the selector thread: bytes and batches in flight between
 * cutting and acknowledging. When it is spent the selector stops reading sockets, so TCP pushes back on the
 * clients and nothing is dropped; acknowledgements free the budget and reading resumes.
 */
public final class ServeurTCP extends Serveur<SensorConnection> {

    private static final Logger log = LoggerFactory.getLogger(ServeurTCP.class);

    /** A batch is handed on once it holds this much, or at the end of the selector round. */
    private static final int BATCH_BYTES = 256 * 1024;
    /**
     * Bytes of JSON between cutting and acknowledging: a sixteenth of the heap (decoded readings and the store's
     * batch take about as much again), between 2 and 64 MiB: 8 MiB, about 115,000 readings, with the recommended
     * heap of 128 MiB.
     */
    private static final long MAX_IN_FLIGHT_BYTES =
            Math.max(2L << 20, Math.min(64L << 20, Runtime.getRuntime().maxMemory() / 16));
    private static final int MAX_IN_FLIGHT_BATCHES = 8192;
    /** The most readings that budget can hold: the shortest reading is 35 bytes. */
    private static final int MAX_IN_FLIGHT_READINGS = (int) (MAX_IN_FLIGHT_BYTES / 35);
    /**
     * One connection's share of the budget while others have values in flight too: a quarter, so that a client
     * sending as fast as it can does not make everyone else's readings wait behind the whole pipeline. Alone, a
     * connection may use all of it (measured by hand on 2026-11-24: a quarter cost a lone stream 26 % of its
     * throughput, 240,000 instead of 325,000 readings/s).
     */
    private static final long SHARED_IN_FLIGHT_BYTES_PER_CONNECTION = MAX_IN_FLIGHT_BYTES / 4;

    private final ServeurSettings settings;
    private final Clock clock;
    private final MesureStore store;
    private final ServeurMetrics metrics;
    private final DecodeWorkers workers;
    private final StoreWriter writer;
    private final Queue<List<FrameBatch>> committed = new ConcurrentLinkedQueue<>();
    private final FrameScanner.Sink framing = new Framing();
    private final WarningBudget rejections = new WarningBudget(log, "rejected values", 10, 10_000_000_000L);
    private final WarningBudget refusals = new WarningBudget(log, "refused connections", 10, 10_000_000_000L);
    private HttpEndpoint http;

    // Selector thread only, except `queued`, which the metrics read.
    private FrameBatch building;
    private long nextSeq;
    private long inFlightBytes;
    private int inFlightBatches;
    private int connectionsInFlight;
    private volatile long queued;
    private SensorConnection scanning;

    /**
     * Opens the store (creating or migrating it) and prepares the threads; {@link #start()} starts them.
     *
     * @throws StoreException when the store cannot be opened or written
     */
    public ServeurTCP(ServeurSettings settings) throws StoreException {
        this(settings, Clock.systemUTC(), Stores.open(settings.store(), settings.sqlite(), MAX_IN_FLIGHT_READINGS));
    }

    /** With the clock that stamps receive times and an open store, which this server closes. */
    ServeurTCP(ServeurSettings settings, Clock clock, MesureStore store) {
        super(settings.listen(), "serveur-selector");
        this.settings = settings;
        this.clock = clock;
        this.store = store;
        this.metrics = new ServeurMetrics(settings.maxSensorGauges());
        this.writer = new StoreWriter(store, settings.maxBatchRows(), metrics, this::onCommitted);
        this.workers = new DecodeWorkers(settings.workers(), settings.rules(), metrics, writer::submit);
        metrics.gauge("serveur.connections.active", "Connections open now", this, ServeurTCP::activeConnections);
        metrics.gauge("serveur.queue.readings", "Values received and not yet stored or rejected", this,
                s -> s.queued);
    }

    /**
     * Starts the writer, the workers, the selector thread and the HTTP endpoint.
     *
     * @throws java.io.UncheckedIOException when a port cannot be bound (everything started is stopped again)
     */
    @Override
    public void start() {
        try {
            writer.start();
            workers.start();
            super.start();
            if (settings.httpPort() >= 0) {
                http = HttpEndpoint.start(settings.listen().bind(), settings.httpPort(), metrics, this::health);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        log.info("serveur listening on {}:{} (HTTP {}), storing in {}, {} workers", settings.listen().bind(),
                port(), http == null ? "off" : String.valueOf(http.port()), store.describe(), settings.workers());
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
                storeHealth.sinceMillis(), activeConnections(), queued);
    }

    /**
     * Graceful stop: no new connections, no more reading, every value already received stored and acknowledged,
     * then the threads stop and the store closes.
     */
    @Override
    public void close() {
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
        metrics.connectionOpened();
    }

    @Override
    protected byte[] onRefused() {
        metrics.connectionRefused();
        if (refusals.allow(System.nanoTime())) {
            log.warn("refused a connection: at the limit of {} connections", settings.listen().maxConnections());
        }
        return Reply.Error.ofConnection(ConnectionReason.TOO_MANY_CONNECTIONS, "the server is at its limit of " + settings.listen().maxConnections()
                + " connections; try again later").toJson().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected void onInput(SensorConnection connection, byte[] data, int length) {
        metrics.bytesReceived(length);
        scanning = connection;
        connection.scanner().scan(data, 0, length, framing);
        scanning = null;
        if (building != null && building.dataLength() >= BATCH_BYTES) {
            dispatch();
        }
    }

    @Override
    protected void onEndOfInput(SensorConnection connection) {
        scanning = connection;
        connection.scanner().endOfInput(framing);
        scanning = null;
        if (connection.allHandled()) {
            closeWhenFlushed(connection);
        }
    }

    @Override
    protected void onIdle(SensorConnection connection) {
        metrics.connectionIdleClosed();
        connection.replies().notice(ConnectionReason.IDLE_TIMEOUT, "no data for " + settings.listen().idleTimeout().toSeconds()
                + " s; closing the connection");
    }

    @Override
    protected void afterReads() {
        dispatch();
    }

    @Override
    protected boolean acceptingInput(SensorConnection connection) {
        return inFlightBytes < MAX_IN_FLIGHT_BYTES && inFlightBatches < MAX_IN_FLIGHT_BATCHES
                && (connection.inFlightBytes() < SHARED_IN_FLIGHT_BYTES_PER_CONNECTION
                        || connectionsInFlight - (connection.inFlightBytes() > 0 ? 1 : 0) == 0);
    }

    @Override
    protected void fillOutput(SensorConnection connection, ByteBuffer out, boolean finalFlush) {
        connection.replies().fill(out, finalFlush || connection.inputEnded() || connection.closing());
    }

    @Override
    protected boolean isDrained() {
        return inFlightBatches == 0 && building == null;
    }

    @Override
    protected void onDrainStart() {
        dispatch();
    }

    // ------------------------------------------------------------------------------------------ the pipeline

    /** Receives the values the scanner cuts from the connection being read. */
    private final class Framing implements FrameScanner.Sink {
        @Override
        public void value(byte[] data, int offset, int length) {
            batch().addValue(scanning, scanning.nextValueIndex(), data, offset, length);
            inFlight(scanning, length);
        }

        @Override
        public void rejected(RejectReason reason, String message) {
            batch().addRejected(scanning, scanning.nextValueIndex(), reason, message);
        }
    }

    /** Counts a connection's bytes in flight, and how many connections have any. */
    private void inFlight(SensorConnection connection, long bytes) {
        long before = connection.inFlightBytes();
        connection.inFlight(bytes);
        long after = connection.inFlightBytes();
        if (before == 0 && after > 0) {
            connectionsInFlight++;
        } else if (before > 0 && after == 0) {
            connectionsInFlight--;
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
        inFlightBytes += batch.dataLength();
        inFlightBatches++;
        queued += batch.frames();
        workers.submit(batch);
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
        List<FrameBatch> group;
        while ((group = committed.poll()) != null) {
            for (FrameBatch batch : group) {
                acknowledge(batch, now);
                inFlightBytes -= batch.dataLength();
                inFlightBatches--;
                queued -= batch.frames();
            }
        }
        if (hasPausedConnections() && inFlightBytes < MAX_IN_FLIGHT_BYTES / 2
                && inFlightBatches < MAX_IN_FLIGHT_BATCHES / 2) {
            resumeReading();
        }
    }

    private void acknowledge(FrameBatch batch, long now) {
        List<FrameBatch.FrameError> errors = batch.errors();
        List<FrameBatch.AcksRequest> acksRequests = batch.acksRequests();
        List<FrameBatch.Unreported> unreported = batch.unreported();
        int nextError = 0;
        int nextAcks = 0;
        int nextUnreported = 0;
        for (int frame = 0; frame < batch.frames(); frame++) {
            SensorConnection connection = (SensorConnection) batch.owner(frame);
            long index = batch.valueIndex(frame);
            while (nextError < errors.size() && errors.get(nextError).frame() == frame) {
                FrameBatch.FrameError error = errors.get(nextError++);
                if (rejections.allow(now)) {
                    log.warn("{}: value {} rejected: {}", connection, index, error.message());
                }
                if (!connection.replies().error(index, error.element(), error.reason(), error.message())) {
                    metrics.repliesDropped(1);
                }
            }
            while (nextUnreported < unreported.size() && unreported.get(nextUnreported).frame() == frame) {
                int count = unreported.get(nextUnreported++).count();
                connection.replies().dropped(count);
                metrics.repliesDropped(count);
            }
            while (nextAcks < acksRequests.size() && acksRequests.get(nextAcks).frame() == frame) {
                connection.replies().live(acksRequests.get(nextAcks++).acks());
            }
            connection.replies().handled(index);
            inFlight(connection, -Math.max(0, batch.length(frame)));
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
}
