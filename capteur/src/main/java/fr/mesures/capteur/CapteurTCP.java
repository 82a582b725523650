package fr.mesures.capteur;

import fr.mesures.capteur.auth.AuthToken;
import fr.mesures.capteur.auth.Refusal;
import fr.mesures.capteur.network.Backoff;
import fr.mesures.capteur.network.Connection;
import fr.mesures.capteur.network.EventLoop;
import fr.mesures.capteur.network.UnackedReadings;
import fr.mesures.capteur.source.TemperatureSource;
import fr.mesures.protocole.Reading;
import fr.mesures.protocole.RejectReason;
import fr.mesures.common.tls.ClientTls;
import fr.mesures.protocole.Reply;
import fr.mesures.protocole.Timestamps;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.UnresolvedAddressException;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Capteur} that delivers its readings to the server over TCP, and delivers every one of them as long as
 * the server comes back: it asks for acknowledgements ({@code {"acks": true}}, value 1 of each connection), sends
 * readings as NDJSON, keeps each one until an {@code {"ack": N}} covers it, and on any failure (refused, reset,
 * closed, no acknowledgement for {@link CapteurSettings#ackTimeout()}) reconnects after a growing, jittered delay
 * and sends the unacknowledged ones again. The server keys readings by {@code (capteur_id, timestamp)}, so a
 * reading that was stored but not yet acknowledged when the connection died is stored once. A reading the server
 * rejects ({@code {"error": ..., "index": K}}) is logged with the server's reason and not sent again, except when
 * the reason is {@code internal_error} (the server failed, nothing was stored): that is a failure like any other,
 * and the reading is sent again on the next connection.
 *
 * <p>With a token, value 1 of each connection is {@code {"auth": TOKEN, "acks": true}} instead, and readings follow
 * it at once. A refusal of who the sensor is ({@code unauthorized}, {@code auth_required}, {@code revoked}, or a
 * fatal TLS alert about its certificate, see {@link Refusal}) is final: the sensor stops, abandons what it holds and
 * tells its {@link Listener#refused listener}, since the same credential would be refused again. A server
 * certificate the sensor itself does not trust is not final (the server may be given a right one): it is retried
 * with the backoff like any failure, and said again every minute.
 *
 * <p>It measures on its own schedule (every {@link CapteurSettings#interval()}, starting at a given phase so that
 * many sensors spread out), or, with a zero interval or a source that paces itself (standard input), as fast as
 * readings come while its buffer has room (and at most once a millisecond, see {@link Capteur#measure()}): then
 * nothing is ever dropped, production simply waits.
 *
 * <p>Runs on an {@link EventLoop}: all its state is touched by the loop thread only. {@link #start()},
 * {@link #stop()} and {@link #abort()} may be called from any thread; they hand the work to the loop.
 */
public class CapteurTCP extends Capteur {

    /**
     * What a sensor reports to whoever runs it: counts (the sensor logs the details itself). Called on the loop
     * thread; must not block.
     */
    public interface Listener {
        default void acknowledged(int readings) {
        }

        default void rejected() {
        }

        default void dropped() {
        }

        /** A connection attempt failed or a connection was lost; the sensor will try again. */
        default void connectionFailed() {
        }

        /**
         * The server refused who the sensor is, for good; {@link #finished} follows at once. The sensor has logged
         * it.
         */
        default void refused(CapteurTCP capteur, Refusal refusal) {
        }

        /** The sensor is done: its source ended or it was stopped, and nothing is left to deliver (or it gave up). */
        default void finished(CapteurTCP capteur) {
        }
    }

    private enum State { NEW, CONNECTING, CONNECTED, RETRY_WAIT, IDLE, FINISHED }

    private static final Logger log = LoggerFactory.getLogger(CapteurTCP.class);
    /** Readings made in one go when measuring as fast as possible, before letting the other sensors run. */
    private static final int PUMP_CHUNK = 256;
    private static final long DROP_LOG_PERIOD_MILLIS = 10_000;
    /** How often a sensor says again that it does not trust the server's certificate while it keeps trying. */
    private static final long CERTIFICATE_LOG_PERIOD_MILLIS = 60_000;

    private final CapteurSettings settings;
    private final EventLoop loop;
    private final Listener listener;
    private final long phaseMillis;
    private final boolean ticking;
    private final long intervalMillis;
    private final long watchdogMillis;
    private final Backoff backoff;
    private final UnackedReadings unacked;
    // Set by the source's thread (if any) to coalesce its wake-ups; the only field touched off the loop thread.
    private final AtomicBoolean wakeUpQueued = new AtomicBoolean();

    private State state = State.NEW;
    private Connection connection;
    private boolean measuring = true;
    private boolean pumpQueued;
    private EventLoop.Timer tickTimer;
    private EventLoop.Timer retryTimer;
    private EventLoop.Timer watchdog;
    private long nextTick;
    private long stateSince;
    private long waitingForAckSince;
    private long lastDropLog = Long.MIN_VALUE;
    private long lastCertificateLog = Long.MIN_VALUE;
    /**
     * Failed attempts since the server last answered. Not reset when TCP connects: over TLS, or with a token, the
     * server may still refuse the connection after that, and each refusal would count as a first failure (logged
     * as one, every time).
     */
    private int failuresInARow;
    /** The server has sent a line on the current connection. */
    private boolean heard;

    private long produced;
    private long acknowledged;
    private long rejected;
    private long forbidden;
    private long abandoned;

    /**
     * @param phaseMillis delay before the first reading, so that sensors started together spread over the interval
     */
    public CapteurTCP(String id, TemperatureSource source, LongSupplier clock, CapteurSettings settings,
                      EventLoop loop, Listener listener, long phaseMillis) {
        super(id, source, clock);
        this.settings = settings;
        this.loop = loop;
        this.listener = listener;
        this.phaseMillis = Math.max(0, phaseMillis);
        this.intervalMillis = settings.interval().toMillis();
        this.ticking = intervalMillis > 0 && !source.selfPaced();
        this.watchdogMillis = Math.max(10, Math.min(1000,
                Math.min(settings.connectTimeout().toMillis(), settings.ackTimeout().toMillis()) / 4));
        this.backoff = new Backoff(settings.backoff(), () -> ThreadLocalRandom.current().nextDouble());
        this.unacked = new UnackedReadings(settings.maxUnacked());
    }

    /** Connects and starts measuring. Any thread. */
    public void start() {
        loop.execute(this::begin);
    }

    /** Stops measuring; the sensor finishes once what it holds is acknowledged. Any thread. */
    public void stop() {
        loop.execute(this::endMeasuring);
    }

    /** Gives up at once: what is not acknowledged is abandoned, and counted. Any thread. */
    public void abort() {
        loop.execute(() -> giveUp(true));
    }

    /**
     * Gives up at once because another sensor sharing this one's credential was refused: what is not acknowledged
     * is abandoned and counted, without a line of its own (the refusal was said once). Any thread.
     */
    public void abortRefused() {
        loop.execute(() -> giveUp(false));
    }

    private void giveUp(boolean say) {
        if (state != State.FINISHED) {
            abandoned = unacked.size();
            if (abandoned > 0) {
                if (say) {
                    log.warn("capteur {}: giving up with {} readings not acknowledged", id(), abandoned);
                } else {
                    log.debug("capteur {}: giving up with {} readings not acknowledged", id(), abandoned);
                }
            }
            measuring = false;
            finish();
        }
    }

    // ---- measuring (loop thread) ----

    private void begin() {
        source().start(this::sourceAvailable);
        watchdog = loop.schedule(watchdogMillis, this::watch);
        if (ticking) {
            nextTick = loop.now() + phaseMillis;
            tickTimer = loop.scheduleAt(nextTick, this::tick);
        } else {
            queuePump();
        }
        connect();
    }

    /**
     * Called by the source, from its own thread, when it has something after a poll found nothing. Only a source
     * with a thread of its own calls it, and such a source paces itself, so the sensor is pumping, not ticking.
     */
    private void sourceAvailable() {
        if (wakeUpQueued.compareAndSet(false, true)) {
            loop.execute(() -> {
                wakeUpQueued.set(false);
                pump();
            });
        }
    }

    private void tick() {
        tickTimer = null;
        if (!measuring) {
            return;
        }
        Reading reading = measure();
        if (reading != null) {
            keep(reading);
            send();
        }
        if (checkSourceEnded()) {
            return;
        }
        long now = loop.now();
        nextTick += intervalMillis;
        if (nextTick < now) {
            nextTick = now; // late (a long pause): measure now, do not catch up with a burst
        }
        tickTimer = loop.scheduleAt(nextTick, this::tick);
    }

    private void queuePump() {
        if (!pumpQueued) {
            pumpQueued = true;
            loop.execute(this::pump);
        }
    }

    /** Measures while there is room, a chunk at a time. */
    private void pump() {
        pumpQueued = false;
        if (!measuring) {
            return;
        }
        int made = 0;
        while (made < PUMP_CHUNK && !unacked.isFull()) {
            Reading reading = measure();
            if (reading == null) {
                break;
            }
            keep(reading);
            made++;
        }
        if (made > 0) {
            send();
        }
        if (checkSourceEnded()) {
            return;
        }
        if (waitingForClock()) {
            pumpQueued = true; // at most one reading per millisecond: go on when the clock has moved
            loop.schedule(1, this::pump);
        } else if (made == PUMP_CHUNK && !unacked.isFull()) {
            queuePump(); // more to do, after the other sensors had their turn
        }
    }

    private void keep(Reading reading) {
        produced++;
        if (unacked.add(reading)) {
            listener.dropped();
            long now = loop.now();
            if (lastDropLog == Long.MIN_VALUE || now - lastDropLog >= DROP_LOG_PERIOD_MILLIS) {
                lastDropLog = now;
                log.warn("capteur {}: {} readings wait for the server, the most kept (--max-unacked); dropped the"
                        + " oldest ({} dropped so far)", id(), unacked.size(), unacked.dropped());
            }
        }
    }

    private boolean checkSourceEnded() {
        if (measuring && sourceEnded()) {
            log.debug("capteur {}: the source has ended after {} readings", id(), produced);
            endMeasuring();
        }
        return !measuring;
    }

    private void endMeasuring() {
        if (measuring) {
            measuring = false;
            if (tickTimer != null) {
                tickTimer.cancel();
                tickTimer = null;
            }
            source().close();
        }
        finishIfDelivered();
    }

    private void finishIfDelivered() {
        if (!measuring && unacked.isEmpty() && state != State.FINISHED) {
            finish();
        }
    }

    private void finish() {
        state = State.FINISHED;
        for (EventLoop.Timer timer : new EventLoop.Timer[] {tickTimer, retryTimer, watchdog}) {
            if (timer != null) {
                timer.cancel();
            }
        }
        closeConnection();
        source().close();
        long dropped = unacked.dropped();
        long outOfOrder = outOfOrderSkipped();
        if (dropped > 0 || rejected > 0 || outOfOrder > 0) {
            log.warn("capteur {}: finished; {} readings acknowledged, {} rejected by the server, {} dropped,"
                    + " {} replayed samples skipped for not being after the previous one", id(), acknowledged,
                    rejected, dropped, outOfOrder);
        } else {
            log.debug("capteur {}: finished; {} readings acknowledged", id(), acknowledged);
        }
        listener.finished(this);
    }

    // ---- network (loop thread) ----

    private void connect() {
        retryTimer = null;
        if (state == State.FINISHED) {
            return;
        }
        state = State.CONNECTING;
        stateSince = loop.now();
        try {
            ServerAddress server = settings.server();
            ClientTls tls = settings.tls();
            connection = Connection.open(new InetSocketAddress(server.host(), server.port()), loop, this::ready,
                    tls == null ? null : () -> tls.newEngine(server.host(), server.port()));
            if (connection.isConnected()) {
                connected();
            }
        } catch (IOException | UnresolvedAddressException e) {
            connection = null;
            fail("cannot connect to " + settings.server() + ": " + describe(e));
        }
    }

    private void ready(SelectionKey key) {
        Connection current = connection;
        if (current == null || key != current.key()) {
            return; // an event for a connection already given up
        }
        try {
            if (state == State.CONNECTING) {
                if (key.isConnectable() && current.finishConnect()) {
                    connected();
                }
                return;
            }
            if (key.isReadable()) {
                if (!current.read(loop.readBuffer(), line -> reply(current, line))) {
                    if (connection == current) { // not when a line read just before made the sensor stop
                        serverClosed();
                    }
                    return;
                }
                if (connection == current && current.writeAfterRead()) {
                    send();
                }
            }
            if (connection == current && key.isValid() && key.isWritable()) {
                send();
            }
        } catch (IOException e) {
            if (connection == current) {
                failed(state == State.CONNECTING ? "cannot connect to " + settings.server() : "connection lost", e);
            }
        } catch (CancelledKeyException e) {
            // The connection was closed while its events were being handled: already dealt with.
        }
    }

    private void connected() {
        state = State.CONNECTED;
        stateSince = loop.now();
        waitingForAckSince = stateSince;
        heard = false;
        log.debug("capteur {}: connected to {} ({} readings to send)", id(), settings.server(), unacked.size());
        // Value 1 of this connection, whatever it is (the buffer is empty, and a token is short, so it fits): the
        // server counts readings from 2, and the auth value asks for acknowledgements as well.
        AuthToken token = settings.token();
        connection.append(token == null ? Reply.ACKS_REQUEST : token.request());
        send();
    }

    /** Writes waiting readings until the socket is full or none is left. */
    private void send() {
        if (state == State.IDLE) {
            connect(); // the server closed an idle connection; there is something to say again
            return;
        }
        if (state != State.CONNECTED) {
            return;
        }
        try {
            while (true) {
                if (!connection.flush()) {
                    connection.wantWrite(true);
                    return;
                }
                Reading next = unacked.nextToWrite();
                if (next == null) {
                    connection.wantWrite(false);
                    return;
                }
                if (unacked.writtenCount() == 0) {
                    waitingForAckSince = loop.now();
                }
                long index;
                while (next != null && (index = connection.append(next.toJson())) > 0) {
                    unacked.written(index);
                    next = unacked.nextToWrite();
                }
            }
        } catch (IOException e) {
            failed("connection lost", e);
        }
    }

    /**
     * One reply line from connection {@code from}. A line can outlive its connection: one read hands over every
     * line that arrived, and a line before it may have made the sensor give the connection up
     * ({@code internal_error}). The rest belongs to a connection whose readings are already back in the queue;
     * the ack that follows an {@code internal_error} would cover the failed value, and reading it would reset the
     * backoff (the server "works"), so it is not read.
     */
    private void reply(Connection from, String line) {
        if (from != connection) {
            log.debug("capteur {}: ignoring a reply from a connection already given up: {}", id(), line);
            return;
        }
        Reply reply;
        try {
            reply = Reply.parse(line);
        } catch (IllegalArgumentException e) {
            log.debug("capteur {}: ignoring a line that is not a reply: {}", id(), line);
            return;
        }
        if (!heard) {
            heard = true;
            serverAnswers();
        }
        if (reply instanceof Reply.Ack ack) {
            acknowledged(ack.count());
        } else if (reply instanceof Reply.Error error) {
            serverError(error);
        } else if (reply instanceof Reply.AuthOk) {
            log.debug("capteur {}: the server accepted the token", id());
        }
    }

    /** The first line of a connection: the connection works (TLS handshake and all). */
    private void serverAnswers() {
        if (failuresInARow > 0 && loop.connectionLog().allow(System.nanoTime())) {
            log.info("capteur {}: {} answers again after {} failed attempts; {} readings not acknowledged yet", id(),
                    settings.server(), failuresInARow, unacked.size());
        }
        failuresInARow = 0;
    }

    private void acknowledged(long upTo) {
        int count = unacked.acknowledge(upTo);
        waitingForAckSince = loop.now();
        if (count > 0) {
            // The server stores readings: a later failure starts again from short delays. Not on an ack of the
            // acks request alone, which a server failing on every reading still sends: its retries would never
            // slow down.
            backoff.reset();
            acknowledged += count;
            listener.acknowledged(count);
        }
        finishIfDelivered();
        if (state != State.FINISHED && measuring && !ticking) {
            queuePump(); // room was made
        }
    }

    private void serverError(Reply.Error error) {
        Optional<Refusal> refusal = Refusal.of(error);
        if (refusal.isPresent()) {
            refuse(refusal.get());
            return;
        }
        if (error.index() > 0 && RejectReason.INTERNAL.label().equals(error.reason())) {
            // The server failed on this value (a bug of its own) and stored nothing of it: it must be sent again.
            // Not at once on this connection: if the bug is persistent, that would loop as fast as the network
            // allows. It is a server failure, so it takes the failure path: close, every written reading back in
            // front of the waiting ones, reconnect after the backoff, which grows while the server keeps failing.
            // The lines after this one (the ack that covers this value) are not read: see reply().
            fail("the server failed to handle value " + error.index() + " [" + error.reason() + "]: "
                    + error.message());
            return;
        }
        String reason = error.reason() == null ? "no reason given" : error.reason();
        if (error.index() > 0) {
            // Refused for what the value is (out of range, invalid...): sending it again would be refused again.
            // An older server gives no reason; its rejections are taken as final too.
            Reading reading = unacked.reject(error.index());
            if (reading == null) {
                log.warn("capteur {}: the server reports an error for value {} [{}]: {}", id(), error.index(),
                        reason, error.message());
                return;
            }
            rejected++;
            listener.rejected();
            if (RejectReason.FORBIDDEN.label().equals(reason)) {
                forbidden++;
                // Not a bad reading: a deployment mistake (this token or certificate is for other sensors), which
                // every reading of this sensor, and often of the fleet, will meet. Said apart so that it is not read
                // as a data problem; once, then every thousandth, under a budget shared by the loop's sensors.
                if ((forbidden == 1 || forbidden % 1000 == 0) && loop.refusalLog().allow(System.nanoTime())) {
                    log.error("capteur {}: the server forbids this sensor's identity (token or certificate) to write"
                            + " capteur_id {}; the reading of {} is not stored [{}]: {} ({} forbidden so far)", id(),
                            reading.capteurId(), Timestamps.formatIso(reading.timestamp()), reason, error.message(),
                            forbidden);
                } else {
                    log.debug("capteur {}: reading of {} forbidden [{}]: {}", id(),
                            Timestamps.formatIso(reading.timestamp()), reason, error.message());
                }
            } else if (rejected - forbidden <= 10 || (rejected - forbidden) % 1000 == 0) {
                log.warn("capteur {}: the server rejected the reading of {} ({} °C) [{}]: {} ({} rejected so far)",
                        id(), Timestamps.formatIso(reading.timestamp()), reading.temperature(), reason,
                        error.message(), rejected);
            }
        } else if (error.dropped() > 0) {
            log.warn("capteur {}: the server left out {} error lines [{}]: {}", id(), error.dropped(), reason,
                    error.message());
        } else {
            log.warn("capteur {}: the server says [{}]: {}", id(), reason, error.message());
        }
    }

    private void serverClosed() {
        if (unacked.isEmpty() && measuring) {
            // Nothing outstanding (a long interval met the server's idle timeout): reconnect when there is
            // something to send, not now.
            closeConnection();
            state = State.IDLE;
            log.debug("capteur {}: the server closed the idle connection", id());
            return;
        }
        fail("the server closed the connection");
    }

    /**
     * The server refused who the sensor is: stop for good. What it holds is abandoned (and counted), since every
     * attempt would be refused the same way; whoever runs the sensor is told, to stop the others sharing the
     * credential and to say why.
     */
    private void refuse(Refusal refusal) {
        if (state == State.FINISHED) {
            return;
        }
        closeConnection();
        unacked.rewind();
        abandoned = unacked.size();
        // Sensors sharing the credential are refused together: a few lines say it, the budget counts the rest.
        if (loop.refusalLog().allow(System.nanoTime())) {
            log.error("capteur {}: {}; stopping without retrying ({} readings not delivered)", id(),
                    refusal.message(), abandoned);
        } else {
            log.debug("capteur {}: {}; stopping", id(), refusal.message());
        }
        measuring = false;
        listener.refused(this, refusal);
        finish();
    }

    /**
     * An I/O failure of the current connection: a refusal of who the sensor is is final, anything else is retried.
     * Unless the failure is TLS's own, the server's last words are read first (a refusal line or a TLS alert that
     * a reset left unread, see {@link Connection#lastWords}): they may say it is a refusal.
     */
    private void failed(String context, IOException e) {
        Throwable failure = e;
        Connection current = connection;
        if (current != null && e instanceof SSLException) {
            current.sendTlsAlert();
        } else if (current != null) {
            SSLException alert = current.lastWords(line -> reply(current, line));
            if (connection != current) {
                return; // a line read there made the sensor stop
            }
            if (alert != null) {
                failure = alert;
                context += " after the server said " + describe(alert);
            }
        }
        Optional<Refusal> refusal = Refusal.ofTls(failure);
        if (refusal.isPresent()) {
            refuse(refusal.get());
        } else if (Refusal.isServerCertificateRefused(failure)) {
            fail("this sensor does not trust the server's certificate (check --tls-ca, and the name and validity of the"
                    + " server's certificate): " + describe(e), true);
        } else {
            fail(context + ": " + describe(e));
        }
    }

    private void fail(String reason) {
        fail(reason, false);
    }

    /**
     * @param certificate the server's certificate was refused: said again every minute while it lasts, not only
     *                    at the first failure, since an operator must notice it (still under the loop's budget)
     */
    private void fail(String reason, boolean certificate) {
        closeConnection();
        int resend = unacked.rewind();
        if (state == State.FINISHED) {
            return;
        }
        failuresInARow++;
        listener.connectionFailed();
        long delay = backoff.nextDelayMillis();
        long now = loop.now();
        boolean sayAgain = certificate && (lastCertificateLog == Long.MIN_VALUE
                || now - lastCertificateLog >= CERTIFICATE_LOG_PERIOD_MILLIS);
        if ((failuresInARow == 1 || sayAgain) && loop.connectionLog().allow(System.nanoTime())) {
            if (certificate) {
                lastCertificateLog = now;
            }
            log.warn("capteur {}: {}; {} readings not acknowledged ({} to send again), retrying in {} ms"
                    + " (attempt {})", id(), reason, unacked.size(), resend, delay, failuresInARow);
        } else {
            log.debug("capteur {}: {} (attempt {}); retrying in {} ms", id(), reason, failuresInARow, delay);
        }
        state = State.RETRY_WAIT;
        stateSince = loop.now();
        retryTimer = loop.schedule(delay, this::connect);
    }

    private void closeConnection() {
        if (connection != null) {
            connection.close();
            connection = null;
        }
    }

    /** Periodic check for a connection attempt that hangs or a server that stopped acknowledging. */
    private void watch() {
        if (state == State.FINISHED) {
            return;
        }
        long now = loop.now();
        if (state == State.CONNECTING && now - stateSince >= settings.connectTimeout().toMillis()) {
            fail("no connection to " + settings.server() + " after " + settings.connectTimeout().toMillis() + " ms");
        } else if (state == State.CONNECTED && unacked.writtenCount() > 0
                && now - waitingForAckSince >= settings.ackTimeout().toMillis()) {
            fail("no acknowledgement for " + (now - waitingForAckSince) + " ms while " + unacked.writtenCount()
                    + " readings are outstanding");
        }
        watchdog = loop.schedule(watchdogMillis, this::watch);
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message;
    }

    // ---- figures, read on the loop thread or after it has stopped ----

    public long produced() {
        return produced;
    }

    /** Readings still held when the sensor gave up. */
    public long abandonedCount() {
        return abandoned;
    }
}
