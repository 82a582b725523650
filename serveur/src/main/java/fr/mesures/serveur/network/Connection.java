package fr.mesures.serveur.network;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * One accepted TCP connection, as the selector thread sees it.
 *
 * <p>Only the selector thread reads or writes the fields of a connection; other threads may hold a reference as
 * an opaque token (to say which connection a piece of work belongs to) and hand it back through the selector's
 * queue.
 *
 * <p>States, in order: <b>open</b> (reading, unless {@link #paused()} because the server is full);
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
    private boolean closed;
    private boolean flushQueued;
    // Bytes a previous write could not hand to the kernel; written before anything new.
    private ByteBuffer unwritten;

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
