package fr.mesures.serveur.network;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import tlschannel.TlsChannel;
import tlschannel.TrackingAllocator;

/**
 * One accepted TCP connection, as the selector thread sees it.
 *
 * <p>Only the selector thread reads or writes the fields of a connection; other threads may hold a reference as
 * an opaque token (to say which connection a piece of work belongs to) and hand it back through the selector's
 * queue. One exception: {@link #closed()} is volatile, for a handshake step waiting on a {@code serveur-tls}
 * thread to see that its connection is gone.
 *
 * <p>States, in order: <b>handshaking</b> (TLS connections only: nothing is read or written for the
 * application until the handshake ends, within its timeout); <b>open</b> (reading, unless {@link #paused()}
 * because the server is full);
 * <b>input ended</b> (the peer shut down its side; replies may still go out); <b>closing</b> (the last bytes are
 * being written; closed when written or after a grace period); <b>closed</b>.
 */
public class Connection {

    private final long id;
    private final SocketChannel channel;
    private final SelectionKey key;
    private final SocketAddress remote;

    private long lastInputNanos;
    private boolean paused;
    private boolean inputEnded;
    private long closingSinceNanos = -1;
    // Volatile: a queued handshake step reads it on a serveur-tls thread, to drop the step of a connection gone.
    private volatile boolean closed;
    private boolean flushQueued;
    // Bytes a previous write could not hand to the kernel; written before anything new.
    private ByteBuffer unwritten;

    // TLS only (null on the plaintext port): the channel that encrypts over the socket, and its buffers.
    private TlsChannel tls;
    private TrackingAllocator tlsBuffers;
    private long handshakeDeadlineNanos = -1;
    private boolean handshakeStepRun;
    // The TLS channel stopped a read until the socket takes bytes, or a write until bytes arrive; or it holds
    // encrypted output the socket did not take.
    private boolean readWantsWrite;
    private boolean writeWantsRead;
    private boolean tlsOutputPending;

    protected Connection(long id, SocketChannel channel, SelectionKey key, long nowNanos) {
        this.id = id;
        this.channel = channel;
        this.key = key;
        this.lastInputNanos = nowNanos;
        SocketAddress address;
        try {
            address = channel.getRemoteAddress();
        } catch (IOException e) {
            address = null;
        }
        this.remote = address;
    }

    /** A number unique within this server's life, for logs. */
    public long id() {
        return id;
    }

    public SocketAddress remote() {
        return remote;
    }

    public boolean inputEnded() {
        return inputEnded;
    }

    public boolean closed() {
        return closed;
    }

    public boolean closing() {
        return closingSinceNanos >= 0;
    }

    /** True while the server has stopped reading this connection because its pipeline is full. */
    public boolean paused() {
        return paused;
    }

    SocketChannel channel() {
        return channel;
    }

    /** What the connection's bytes go through: the socket itself, or the TLS channel over it. */
    ByteChannel io() {
        return tls != null ? tls : channel;
    }

    void useTls(TlsChannel channel, TrackingAllocator buffers, long handshakeDeadlineNanos) {
        this.tls = channel;
        this.tlsBuffers = buffers;
        this.handshakeDeadlineNanos = handshakeDeadlineNanos;
    }

    /** The TLS engine of a connection on the TLS port (null on the plaintext one). */
    SSLEngine tlsEngine() {
        return tls == null ? null : tls.getSslEngine();
    }

    /** The TLS session of a connection on the TLS port (null on the plaintext one), for its peer's identity. */
    public SSLSession tlsSession() {
        return tls == null ? null : tls.getSslEngine().getSession();
    }

    /** Takes the TLS handshake further; see {@link TlsChannel#handshake()} for what it throws. */
    void tlsHandshake() throws IOException {
        tls.handshake();
    }

    /** True for a connection accepted on the TLS port. */
    public boolean tls() {
        return tls != null;
    }

    /** True while a TLS connection's handshake has not finished. */
    public boolean handshaking() {
        return handshakeDeadlineNanos >= 0;
    }

    long handshakeDeadlineNanos() {
        return handshakeDeadlineNanos;
    }

    /** False for the first handshake step sent off the selector thread, true for every one after it. */
    boolean laterHandshakeStep() {
        boolean later = handshakeStepRun;
        handshakeStepRun = true;
        return later;
    }

    void handshakeDone() {
        handshakeDeadlineNanos = -1;
    }

    /** Bytes the TLS buffers of this connection hold now: records partly received, output not sent yet. */
    protected long tlsBufferBytes() {
        return tlsBuffers == null ? 0 : tlsBuffers.currentAllocation();
    }

    boolean readWantsWrite() {
        return readWantsWrite;
    }

    void readWantsWrite(boolean wants) {
        readWantsWrite = wants;
    }

    boolean writeWantsRead() {
        return writeWantsRead;
    }

    void writeWantsRead(boolean wants) {
        writeWantsRead = wants;
    }

    boolean tlsOutputPending() {
        return tlsOutputPending;
    }

    void tlsOutputPending(boolean pending) {
        tlsOutputPending = pending;
    }

    SelectionKey key() {
        return key;
    }

    void inputSeen(long nowNanos) {
        lastInputNanos = nowNanos;
    }

    void pause() {
        paused = true;
        setInterest(SelectionKey.OP_READ, false);
    }

    void resume(long nowNanos) {
        paused = false;
        // Time spent paused is the server's doing, not the client's idleness.
        lastInputNanos = nowNanos;
        setInterest(SelectionKey.OP_READ, true);
    }

    void endInput() {
        inputEnded = true;
        setInterest(SelectionKey.OP_READ, false);
    }

    /** Nothing more is read from a closing connection: what it sends now could not be acknowledged. */
    void startClosing(long nowNanos) {
        if (closingSinceNanos < 0) {
            closingSinceNanos = nowNanos;
            setInterest(SelectionKey.OP_READ, false);
        }
    }

    long closingSinceNanos() {
        return closingSinceNanos;
    }

    void markClosed() {
        closed = true;
    }

    boolean flushQueued() {
        return flushQueued;
    }

    void flushQueued(boolean queued) {
        flushQueued = queued;
    }

    ByteBuffer unwritten() {
        return unwritten;
    }

    /** Bytes of output the kernel did not take yet, kept for a later write. */
    protected int unwrittenBytes() {
        return unwritten == null ? 0 : unwritten.capacity();
    }

    protected long lastInputNanos() {
        return lastInputNanos;
    }

    void unwritten(ByteBuffer bytes) {
        unwritten = bytes;
    }

    void setInterest(int op, boolean on) {
        if (key.isValid()) {
            int ops = key.interestOps();
            key.interestOps(on ? ops | op : ops & ~op);
        }
    }

    @Override
    public String toString() {
        return "connection " + id + (remote == null ? "" : " from " + remote);
    }
}
