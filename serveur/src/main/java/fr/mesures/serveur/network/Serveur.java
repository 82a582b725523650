package fr.mesures.serveur.network;

import fr.mesures.common.tls.ServerTls;
import fr.mesures.common.tls.TlsAlerts;
import fr.mesures.common.tls.TlsBufferPool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tlschannel.NeedsReadException;
import tlschannel.NeedsTaskException;
import tlschannel.NeedsWriteException;
import tlschannel.ServerTlsChannel;
import tlschannel.TlsChannel;
import tlschannel.TrackingAllocator;

/**
 * A TCP server driven by one {@code java.nio} Selector loop: it accepts, reads, writes and closes connections,
 * and enforces the limits every TCP service needs (connection count, idle time, listen backlog). What the bytes
 * mean is left to a subclass, through the {@code on...} hooks and {@link #fillOutput}.
 *
 * <p><b>TLS.</b> A second listener may take TLS connections ({@link TlsListen}): their bytes go through a
 * {@code tls-channel} {@link TlsChannel} over the socket, in the same loop, and the hooks see plaintext. The
 * handshake's expensive steps (key agreement, signatures: the engine's delegated tasks) run on a small pool of
 * {@code serveur-tls} threads, so that a thousand handshakes at once do not stop the loop; the connection is not
 * read meanwhile and comes back through {@link #execute}. A TLS read hands over one record at a time and may keep
 * records it has already taken from the socket, which no readiness event will announce again: such a connection
 * is read again in the next round without waiting ({@code readAgain}).
 *
 * <p><b>Threads.</b> One thread, the selector thread, owns the Selector, the listening sockets, every connection
 * and the read and write buffers; all hooks run on it. Other threads reach it only through {@link #execute},
 * which queues a task and wakes the selector. That is the whole concurrency story of this class, and why none of
 * its connection state needs locks.
 *
 * <p><b>Lifecycle.</b> {@link #start()} binds and starts the selector thread; {@link #close()} stops accepting,
 * stops reading, waits until the subclass says it {@link #isDrained() has no work in flight}, writes the last
 * replies and closes every connection.
 *
 * @param <C> the subclass's connection type, which carries its per-connection state
 */
public abstract class Serveur<C extends Connection> implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Serveur.class);

    private static final int READ_BUFFER_BYTES = 256 * 1024;
    private static final int WRITE_BUFFER_BYTES = 64 * 1024;
    /**
     * The kernel's send buffer of each connection: replies are small, and a client that never reads would
     * otherwise have the kernel keep up to its autotuned maximum for it (4 MB a connection on Linux, measured with
     * 200 such clients: 343 MB of kernel memory). Past it, replies wait in the server, which bounds them.
     */
    private static final int SEND_BUFFER_BYTES = 16 * 1024;
    private static final int ACCEPTS_PER_ROUND = 1024;
    private static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final long CLOSING_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long ACCEPT_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long DRAIN_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);
    /** Half the cores: the other half keep the loop, the decoders and the writer going during a storm. */
    private static final int HANDSHAKE_THREADS = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);

    private final ListenSettings settings;
    private final String threadName;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final AtomicBoolean closeRequested = new AtomicBoolean();

    // Owned by the selector thread.
    private final Set<C> connections = new HashSet<>();
    private final Set<C> paused = new LinkedHashSet<>();
    private final Set<C> readAgain = new LinkedHashSet<>();
    private final List<C> readNow = new ArrayList<>();
    private final ArrayDeque<C> flushQueue = new ArrayDeque<>();
    private final List<Runnable> roundTasks = new ArrayList<>();
    private final List<C> due = new ArrayList<>();
    private final byte[] readBytes = new byte[READ_BUFFER_BYTES];
    private final ByteBuffer readBuffer = ByteBuffer.wrap(readBytes);
    private final ByteBuffer writeBuffer = ByteBuffer.allocate(WRITE_BUFFER_BYTES);
    private long nextConnectionId = 1;
    private long nextSweepNanos;
    private long acceptResumeNanos = -1;
    private long drainDeadlineNanos = -1;
    private boolean finalFlushDone;

    private Selector selector;
    private ServerSocketChannel listener;
    private SelectionKey acceptKey;
    private ServerSocketChannel tlsListener;
    private SelectionKey tlsAcceptKey;
    private Thread thread;
    private volatile int port = -1;
    private volatile int tlsPort = -1;
    private HandshakeSteps handshakeSteps;
    /** TLS buffers on the heap, where the memory budget can see them (tls-channel's default is direct memory). */
    private TlsBufferPool tlsBuffers;
    private volatile int activeConnections;
    private volatile int pausedConnections;
    private volatile boolean listening;

    protected Serveur(ListenSettings settings, String threadName) {
        this.settings = settings;
        this.threadName = threadName;
    }

    // ------------------------------------------------------------------------------------------ hooks

    /** Makes the connection object for a newly accepted socket. */
    protected abstract C newConnection(long id, SocketChannel channel, SelectionKey key, long nowNanos);

    /** A connection was accepted. */
    protected void onOpen(C connection) {
    }

    /** A TLS connection finished its handshake; what it sends from now on reaches {@link #onInput}. */
    protected void onHandshake(C connection) {
    }

    /**
     * A TLS connection's handshake failed or did not finish in time; it is closed after this returns.
     *
     * @param reason a short stable name: {@code timeout}, {@code closed}, {@code not_tls}, {@code protocol},
     *               {@code certificate}, {@code other}
     * @param detail what the TLS engine said, for a log line
     */
    protected void onHandshakeFailed(C connection, String reason, String detail) {
    }

    /**
     * Whether one more connection, over TLS or not, fits; checked before each accept's connection is opened, after
     * the connection limit. False refuses it as over the limit.
     */
    protected boolean admit(boolean tls) {
        return true;
    }

    /** A connection over the limit was refused; returns the bytes to send it before closing, or null. */
    protected byte[] onRefused() {
        return null;
    }

    /** {@code length} bytes arrived, in {@code data[0, length)}; the array is reused after this returns. */
    protected abstract void onInput(C connection, byte[] data, int length);

    /** The peer will send nothing more (it shut down its side, or the connection was reset). */
    protected abstract void onEndOfInput(C connection);

    /** The connection sent nothing for the idle timeout; it is closed after this (and its output) returns. */
    protected void onIdle(C connection) {
    }

    /** The connection is closed; no hook will see it again. */
    protected void onClosed(C connection) {
    }

    /** Called once per selector round after all reads: the place to hand accumulated work on. */
    protected void afterReads() {
    }

    /**
     * How many bytes may be read from this connection now (the read buffer caps it further); at 0 it stops being
     * read until {@link #resumeReading()}.
     */
    protected abstract long readLimit(C connection);

    /**
     * A paused connection is about to be read again: the place to finish what it left (bytes read and not handled
     * yet). False keeps it paused.
     */
    protected boolean onResume(C connection) {
        return true;
    }

    /** A flush of the connection's output ended (written, or kept for later); what it holds may have changed. */
    protected void onFlushed(C connection) {
    }

    /**
     * Whether the connection has had its time: by default, when it sent nothing for the idle timeout (time spent
     * paused by the server does not count). It is then {@link #onIdle told} and closed.
     */
    protected boolean expired(C connection, long nowNanos) {
        return !connection.paused() && !connection.inputEnded()
                && nowNanos - connection.lastInputNanos() > settings.idleTimeout().toNanos();
    }

    /**
     * The selector thread is dying of {@code error}: every connection is about to be closed. Called on that
     * thread, before the connections close; or on a {@code serveur-tls} thread that dies of an {@code Error}.
     */
    protected void onFailure(Throwable error) {
    }

    /**
     * Puts whatever the connection has to send into {@code out} (complete lines only, as many as fit) and
     * forgets it: this class keeps anything the kernel does not take and writes it later.
     *
     * @param finalFlush true once the server is shutting down and has no work in flight
     */
    protected abstract void fillOutput(C connection, ByteBuffer out, boolean finalFlush);

    /** During {@link #close()}: true once no work accepted from a connection is still in flight. */
    protected abstract boolean isDrained();

    /** During {@link #close()}, once reading stopped: hand on whatever is pending. */
    protected void onDrainStart() {
    }

    // ------------------------------------------------------------------------------------------ lifecycle

    /**
     * Binds the listening socket and starts the selector thread.
     *
     * @throws UncheckedIOException when the address cannot be bound
     */
    public void start() {
        int binding = settings.port();
        try {
            selector = Selector.open();
            if (settings.port() >= 0) {
                listener = listen(settings.port());
                acceptKey = listener.register(selector, SelectionKey.OP_ACCEPT);
                port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
            }
            if (settings.tls() != null) {
                handshakeSteps = new HandshakeSteps(HANDSHAKE_THREADS);
                binding = settings.tls().port();
                tlsListener = listen(binding);
                tlsAcceptKey = tlsListener.register(selector, SelectionKey.OP_ACCEPT);
                tlsPort = ((InetSocketAddress) tlsListener.getLocalAddress()).getPort();
            }
        } catch (IOException e) {
            closeQuietly();
            throw new UncheckedIOException("cannot listen on " + settings.bind() + ":" + binding
                    + ": " + e.getMessage(), e);
        }
        listening = true;
        thread = new Thread(this::run, threadName);
        tlsBuffers = new TlsBufferPool(thread);
        thread.start();
    }

    private ServerSocketChannel listen(int port) throws IOException {
        ServerSocketChannel channel = ServerSocketChannel.open();
        channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        channel.bind(new InetSocketAddress(settings.bind(), port), settings.backlog());
        channel.configureBlocking(false);
        return channel;
    }

    /** The plaintext TCP port this server listens on (useful after binding port 0); -1 when it has none. */
    public int port() {
        return port;
    }

    /** The TLS port this server listens on; -1 when it has none. */
    public int tlsPort() {
        return tlsPort;
    }

    public boolean listening() {
        return listening;
    }

    public int activeConnections() {
        return activeConnections;
    }

    /** Connections not being read now because the next stage has no room for them (for metrics). */
    public int pausedConnections() {
        return pausedConnections;
    }

    protected ListenSettings listenSettings() {
        return settings;
    }

    /**
     * Graceful stop: stop accepting, stop reading, let the work in flight finish, send the last replies, close.
     * Returns when the selector thread has ended. Safe to call more than once and from any thread.
     */
    @Override
    public void close() {
        if (thread == null) {
            closeQuietly();
            return;
        }
        if (closeRequested.compareAndSet(false, true)) {
            execute(this::beginDrain);
        }
        try {
            thread.join(TimeUnit.NANOSECONDS.toMillis(DRAIN_TIMEOUT_NANOS + CLOSING_GRACE_NANOS) + 5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("selector thread did not stop in time; closing its selector");
            closeQuietly();
        }
    }

    /** Runs {@code task} on the selector thread, soon. The only way other threads touch connections. */
    protected final void execute(Runnable task) {
        tasks.add(task);
        if (wakeupPending.compareAndSet(false, true)) {
            Selector s = selector;
            if (s != null) {
                s.wakeup();
            }
        }
    }

    // ------------------------------------------------------------------------------------------ services for subclasses (selector thread only)

    /** Writes what the connection has to say at the end of this round. */
    protected final void requestFlush(C connection) {
        if (!connection.flushQueued() && !connection.closed()) {
            connection.flushQueued(true);
            flushQueue.add(connection);
        }
    }

    /** Closes the connection once its output is written (or after a grace period if the peer does not read). */
    protected final void closeWhenFlushed(C connection) {
        if (!connection.closed()) {
            connection.startClosing(System.nanoTime());
            requestFlush(connection);
        }
    }

    /**
     * Starts reading again the connections paused while {@link #readLimit} was 0, those that {@link #onResume} lets
     * go; one that is still over its limit is paused again at its next read.
     */
    protected final void resumeReading() {
        if (paused.isEmpty() || drainDeadlineNanos >= 0) {
            return;
        }
        long now = System.nanoTime();
        for (Iterator<C> it = paused.iterator(); it.hasNext(); ) {
            C c = it.next();
            if (c.closed() || c.inputEnded()) {
                it.remove();
            } else if (onResume(c)) {
                it.remove();
                c.resume(now);
                readTlsAgain(c);
            }
        }
        pausedConnections = paused.size();
    }

    /**
     * Stops reading a connection until {@link #resumeReading}: for one that has work left that is not waiting on
     * its socket (it would otherwise only be paused at its next read, which may never come).
     */
    protected final void pauseReading(C connection) {
        if (!connection.paused() && !connection.closed()) {
            connection.pause();
            paused.add(connection);
            pausedConnections = paused.size();
        }
    }

    /** The same for one connection. */
    protected final void resumeReading(C connection) {
        if (drainDeadlineNanos < 0 && paused.contains(connection) && onResume(connection)) {
            paused.remove(connection);
            pausedConnections = paused.size();
            if (!connection.closed() && !connection.inputEnded()) {
                connection.resume(System.nanoTime());
                readTlsAgain(connection);
            }
        }
    }

    protected final boolean hasPausedConnections() {
        return !paused.isEmpty();
    }

    /** A TLS connection read again may have records its channel took from the socket before it was paused. */
    private void readTlsAgain(C c) {
        if (c.tls()) {
            readAgain.add(c);
        }
    }

    // ------------------------------------------------------------------------------------------ the loop

    private void run() {
        log.debug("selector thread started on port {}", port);
        nextSweepNanos = System.nanoTime() + SWEEP_NANOS;
        try {
            while (true) {
                long now = System.nanoTime();
                long waitMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextSweepNanos - now));
                if (readAgain.isEmpty()) {
                    selector.select(this::handle, waitMillis);
                } else {
                    selector.selectNow(this::handle);
                }
                wakeupPending.set(false);
                runTasks();
                readBuffered();
                afterReads();
                flushQueued();
                now = System.nanoTime();
                if (now - nextSweepNanos >= 0) {
                    sweep(now);
                    nextSweepNanos = now + SWEEP_NANOS;
                }
                if (drainDeadlineNanos >= 0 && drainStep(now)) {
                    break;
                }
            }
        } catch (ClosedSelectorException e) {
            log.debug("selector closed");
        } catch (IOException | RuntimeException | Error e) {
            log.error("selector loop failed; closing every connection", e);
            onFailure(e);
        } finally {
            for (C c : new ArrayList<>(connections)) {
                closeNow(c);
            }
            closeQuietly();
            if (handshakeSteps != null) {
                handshakeSteps.shutdownNow();
            }
            listening = false;
            log.debug("selector thread stopped");
        }
    }

    private void handle(SelectionKey key) {
        if (key == acceptKey) {
            acceptAll(listener, null);
            return;
        }
        if (key == tlsAcceptKey) {
            acceptAll(tlsListener, settings.tls());
            return;
        }
        @SuppressWarnings("unchecked")
        C c = (C) key.attachment();
        try {
            if (key.isValid() && key.isWritable()) {
                if (c.readWantsWrite()) {
                    c.readWantsWrite(false);
                    read(c);
                }
                flush(c);
            }
            if (key.isValid() && key.isReadable()) {
                read(c);
            }
        } catch (RuntimeException e) {
            // A bug tied to one connection must not take the others down.
            log.error("closing {} after an unexpected error", c, e);
            closeNow(c);
        }
    }

    /**
     * Runs the tasks queued when the round began, not those they cause: a task may make work that comes back as
     * another task (an acknowledgement frees room, the room lets a connection's kept bytes be cut, the cut values
     * come back acknowledged), and running those too kept the selector in here for the whole of a flood, writing
     * no reply and reading no other socket.
     */
    private void runTasks() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            roundTasks.add(task);
        }
        for (Runnable t : roundTasks) {
            try {
                t.run();
            } catch (RuntimeException e) {
                log.error("selector task failed", e);
            }
        }
        roundTasks.clear();
    }

    /** Accepts from {@code from}; {@code tls} is its TLS settings, null for the plaintext listener. */
    private void acceptAll(ServerSocketChannel from, TlsListen tls) {
        for (int i = 0; i < ACCEPTS_PER_ROUND; i++) {
            SocketChannel channel;
            try {
                channel = from.accept();
            } catch (IOException e) {
                // Usually out of file descriptors: back off instead of spinning on a ready listener.
                log.warn("accept failed ({}); pausing accepts for 100 ms", e.getMessage());
                setAccepting(false);
                acceptResumeNanos = System.nanoTime() + ACCEPT_BACKOFF_NANOS;
                return;
            }
            if (channel == null) {
                return;
            }
            if (connections.size() >= settings.maxConnections() || !admit(tls != null)) {
                // A TLS client could not read a plaintext line: it is only closed.
                refuse(channel, tls == null);
                continue;
            }
            try {
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.setOption(StandardSocketOptions.SO_SNDBUF, SEND_BUFFER_BYTES);
                long now = System.nanoTime();
                SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
                C c = newConnection(nextConnectionId++, channel, key, now);
                if (tls != null) {
                    startTls(c, channel, tls, now);
                }
                key.attach(c);
                connections.add(c);
                activeConnections = connections.size();
                onOpen(c);
            } catch (IOException e) {
                log.debug("accepted connection failed at once: {}", e.getMessage());
                closeChannel(channel);
            }
        }
    }

    private void startTls(C c, SocketChannel channel, TlsListen tls, long nowNanos) {
        TrackingAllocator buffers = new TrackingAllocator(tlsBuffers);
        ServerTls current = tls.tls().get();
        TlsChannel tlsChannel = ServerTlsChannel.newBuilder(channel, current.context())
                .withEngineFactory(context -> current.newEngine())
                .withRunTasks(false)
                .withPlainBufferAllocator(buffers)
                .withEncryptedBufferAllocator(buffers)
                .withSessionInitCallback(session -> {
                    // Called on this thread, inside a read of c, once the handshake is done.
                    if (c.handshaking()) {
                        c.handshakeDone();
                        onHandshake(c);
                    }
                })
                .build();
        c.useTls(tlsChannel, buffers, nowNanos + tls.handshakeTimeout().toNanos());
    }

    private void setAccepting(boolean on) {
        for (SelectionKey key : new SelectionKey[] {acceptKey, tlsAcceptKey}) {
            if (key != null && key.isValid()) {
                key.interestOps(on ? SelectionKey.OP_ACCEPT : 0);
            }
        }
    }

    /** Closes a connection over the limit, telling it why first if it reads plaintext ({@code tell}). */
    private void refuse(SocketChannel channel, boolean tell) {
        byte[] message = onRefused();
        try {
            channel.configureBlocking(false);
            if (message != null && tell) {
                channel.write(ByteBuffer.wrap(message));
            }
        } catch (IOException e) {
            log.trace("refused connection gone before its message: {}", e.getMessage());
        }
        closeChannel(channel);
    }

    private void read(C c) {
        if (c.handshaking() && !handshake(c)) {
            return;
        }
        long limit = drainDeadlineNanos >= 0 ? 0 : readLimit(c);
        if (limit <= 0) {
            pauseReading(c);
            return;
        }
        readBuffer.clear();
        if (limit < readBuffer.capacity()) {
            readBuffer.limit((int) limit);
        }
        int n;
        try {
            n = c.tls() ? readTls(c) : c.channel().read(readBuffer);
        } catch (IOException e) {
            // Reset by the peer. What reached this host before the reset has been read (the kernel hands it over
            // first); what the peer had not transmitted yet is gone with its socket, never acknowledged.
            log.debug("{} failed: {}", c, e.getMessage());
            c.endInput();
            onEndOfInput(c);
            closeNow(c);
            return;
        }
        if (n > 0) {
            c.inputSeen(System.nanoTime());
            onInput(c, readBytes, n);
        } else if (n < 0) {
            c.endInput();
            onEndOfInput(c);
        }
        if (c.writeWantsRead() && !c.closed()) {
            c.writeWantsRead(false);
            requestFlush(c);
        }
    }

    /**
     * Takes the handshake of a TLS connection as far as the bytes at hand allow, whatever the connection's read
     * limit: a handshake hands nothing to the pipeline. True once it is done, false while it goes on (or failed, and
     * the connection is closed).
     */
    private boolean handshake(C c) {
        try {
            c.tlsHandshake();
            return true;
        } catch (NeedsReadException e) {
            return false;
        } catch (NeedsWriteException e) {
            c.readWantsWrite(true);
            c.setInterest(SelectionKey.OP_WRITE, true);
            return false;
        } catch (NeedsTaskException e) {
            runHandshakeTask(c, e.getTask());
            return false;
        } catch (IOException e) {
            if (e instanceof SSLException) {
                TlsAlerts.send(c.tlsEngine(), c.channel());
            }
            // A ClosedChannelException: the client closed the connection (tls-channel's word for end of stream).
            handshakeFailed(c, e instanceof SSLException ? TlsFailures.reason(e) : "closed",
                    e.getMessage() != null ? e.getMessage() : e.toString());
            return false;
        }
    }

    /**
     * Reads a TLS connection until its channel needs more from the socket, the buffer is full or the stream ends:
     * one TLS read hands over one record, and records already taken from the socket would otherwise wait for a
     * readiness event that never comes. With the buffer full, the connection is read again next round.
     */
    private int readTls(C c) throws IOException {
        ByteChannel io = c.io();
        int total = 0;
        try {
            while (readBuffer.hasRemaining()) {
                int n = io.read(readBuffer);
                if (n < 0) {
                    return total > 0 ? total : -1;
                }
                total += n;
            }
            readAgain.add(c);
        } catch (NeedsReadException e) {
            // Everything the socket had is read.
        } catch (NeedsWriteException e) {
            // The handshake has bytes to send that the socket does not take yet: read again once it does.
            c.readWantsWrite(true);
            c.setInterest(SelectionKey.OP_WRITE, true);
        } catch (NeedsTaskException e) {
            runHandshakeTask(c, e.getTask());
        }
        return total;
    }

    /**
     * Runs a handshake step off the selector thread ({@link HandshakeSteps} says in which order). The connection is
     * not read until it is done: the engine can do nothing else meanwhile, and its socket may already have the
     * client's next bytes, so it is read again right after.
     */
    private void runHandshakeTask(C c, Runnable task) {
        c.setInterest(SelectionKey.OP_READ, false);
        boolean timed = c.handshaking();
        long deadline = c.handshakeDeadlineNanos();
        handshakeSteps.submit(c.laterHandshakeStep(), () -> c.closed() || timed && System.nanoTime() - deadline > 0,
                () -> {
                    try {
                        task.run();
                    } catch (RuntimeException e) {
                        log.debug("{}: handshake step failed: {}", c, e.toString());
                    } catch (Error e) {
                        onFailure(e);
                        throw e;
                    }
                    execute(() -> {
                        if (!c.closed()) {
                            if (!c.paused() && !c.closing()) {
                                c.setInterest(SelectionKey.OP_READ, true);
                            }
                            readAgain.add(c);
                        }
                    });
                });
    }

    /** Reads the TLS connections that may hold records already taken from their socket. */
    private void readBuffered() {
        if (readAgain.isEmpty()) {
            return;
        }
        readNow.addAll(readAgain);
        readAgain.clear();
        for (C c : readNow) {
            if (!c.closed() && !c.paused() && !c.inputEnded() && !c.closing()) {
                try {
                    read(c);
                } catch (RuntimeException e) {
                    log.error("closing {} after an unexpected error", c, e);
                    closeNow(c);
                }
            }
        }
        readNow.clear();
    }

    private void handshakeFailed(C c, String reason, String detail) {
        try {
            onHandshakeFailed(c, reason, detail);
        } finally {
            closeNow(c);
        }
    }

    private void flushQueued() {
        C c;
        while ((c = flushQueue.poll()) != null) {
            c.flushQueued(false);
            flush(c);
        }
    }

    /** Writes as much as the kernel takes; the rest waits for OP_WRITE. */
    private void flush(C c) {
        if (c.closed()) {
            return;
        }
        try {
            write(c);
        } finally {
            onFlushed(c);
        }
    }

    private void write(C c) {
        if (c.handshaking()) {
            // Nothing of the application's goes out before the handshake; one that is closing need not finish it.
            if (c.closing()) {
                closeNow(c);
            } else if (!c.readWantsWrite()) {
                c.setInterest(SelectionKey.OP_WRITE, false);
            }
            return;
        }
        try {
            if (c.tlsOutputPending() && !writeAll(c, NOTHING)) {
                waitToWrite(c);
                return;
            }
            ByteBuffer pending = c.unwritten();
            if (pending != null) {
                boolean written = writeAll(c, pending);
                if (!pending.hasRemaining()) {
                    c.unwritten(null);
                }
                if (!written) {
                    waitToWrite(c);
                    return;
                }
            }
            while (true) {
                writeBuffer.clear();
                fillOutput(c, writeBuffer, finalFlushDone);
                writeBuffer.flip();
                if (!writeBuffer.hasRemaining()) {
                    break;
                }
                boolean written = writeAll(c, writeBuffer);
                if (writeBuffer.hasRemaining()) {
                    ByteBuffer rest = ByteBuffer.allocate(writeBuffer.remaining());
                    rest.put(writeBuffer).flip();
                    c.unwritten(rest);
                }
                if (!written) {
                    waitToWrite(c);
                    return;
                }
            }
            c.setInterest(SelectionKey.OP_WRITE, false);
            if (c.closing()) {
                closeNow(c);
            }
        } catch (IOException e) {
            log.debug("{} could not be written: {}", c, e.getMessage());
            closeNow(c);
        }
    }

    /**
     * Hands {@code bytes} to the connection's channel; false when not all of it reached the socket. A TLS channel
     * either takes everything or stops with part of it encrypted inside it, to be written first next time.
     */
    private boolean writeAll(C c, ByteBuffer bytes) throws IOException {
        c.tlsOutputPending(false);
        try {
            c.io().write(bytes);
        } catch (NeedsWriteException e) {
            c.tlsOutputPending(true);
            return false;
        } catch (NeedsReadException e) {
            // TLS wants the peer's next message first (a key update): the next read of c flushes again.
            c.writeWantsRead(true);
            return false;
        }
        return !bytes.hasRemaining();
    }

    private void waitToWrite(C c) {
        c.setInterest(SelectionKey.OP_WRITE, !c.writeWantsRead());
    }

    private void sweep(long now) {
        if (acceptResumeNanos >= 0 && now - acceptResumeNanos >= 0) {
            setAccepting(true);
            acceptResumeNanos = -1;
        }
        // Only the connections due are copied (acting on one changes the set): copying all 10,000 four times a
        // second was 5 % of the selector's time at 10,000 TLS connections (JFR).
        for (C c : connections) {
            if (due(c, now)) {
                due.add(c);
            }
        }
        for (C c : due) {
            if (handshakeLate(c, now)) {
                handshakeFailed(c, "timeout", "no complete handshake within "
                        + settings.tls().handshakeTimeout().toMillis() + " ms");
            } else if (c.closing()) {
                closeNow(c);
            } else {
                onIdle(c);
                closeWhenFlushed(c);
            }
        }
        due.clear();
        flushQueued();
    }

    /** Whether the sweep acts on the connection: a late handshake, a close past its grace, or an expiry. */
    private boolean due(C c, long now) {
        return handshakeLate(c, now)
                || (c.closing() ? now - c.closingSinceNanos() > CLOSING_GRACE_NANOS : expired(c, now));
    }

    private static boolean handshakeLate(Connection c, long now) {
        return c.handshaking() && now - c.handshakeDeadlineNanos() > 0;
    }

    private void beginDrain() {
        log.info("stopping: no new connections, no more reading; finishing the work in flight");
        listening = false;
        drainDeadlineNanos = System.nanoTime() + DRAIN_TIMEOUT_NANOS;
        for (SelectionKey key : new SelectionKey[] {acceptKey, tlsAcceptKey}) {
            if (key != null) {
                key.cancel();
            }
        }
        closeListeners();
        for (C c : connections) {
            c.setInterest(SelectionKey.OP_READ, false);
        }
        paused.clear();
        readAgain.clear();
        pausedConnections = 0;
        onDrainStart();
    }

    /** One step of the shutdown; true when the loop can end. */
    private boolean drainStep(long now) {
        if (!finalFlushDone) {
            if (!isDrained() && now - drainDeadlineNanos < 0) {
                return false;
            }
            if (!isDrained()) {
                log.warn("work still in flight after the drain timeout; closing anyway");
            }
            finalFlushDone = true;
            for (C c : new ArrayList<>(connections)) {
                closeWhenFlushed(c);
            }
            flushQueued();
        }
        return connections.isEmpty();
    }

    private void closeNow(C c) {
        if (c.closed()) {
            return;
        }
        c.markClosed();
        if (paused.remove(c)) {
            pausedConnections = paused.size();
        }
        readAgain.remove(c);
        c.key().cancel();
        // A TLS channel says close_notify if the socket takes it, then closes the socket.
        closeChannel(c.io());
        connections.remove(c);
        activeConnections = connections.size();
        try {
            onClosed(c);
        } catch (RuntimeException e) {
            log.error("onClosed failed for {}", c, e);
        }
    }

    private static void closeChannel(java.nio.channels.Channel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            log.trace("close failed: {}", e.getMessage());
        }
    }

    private void closeListeners() {
        if (listener != null) {
            closeChannel(listener);
        }
        if (tlsListener != null) {
            closeChannel(tlsListener);
        }
    }

    private void closeQuietly() {
        listening = false;
        closeListeners();
        if (selector != null) {
            try {
                selector.close();
            } catch (IOException e) {
                log.trace("selector close failed: {}", e.getMessage());
            }
        }
    }
}
