package fr.mesures.serveur;

import fr.mesures.serveur.auth.Credential;
import fr.mesures.serveur.memory.MemoryBudget;
import fr.mesures.serveur.network.Connection;
import fr.mesures.serveur.protocol.FrameScanner;
import fr.mesures.serveur.protocol.Replies;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A sensor's connection: the network state of {@link Connection} plus the protocol state of one client, its
 * framing state, how many values it has sent, the replies it is owed, its account in the memory budget, and where it
 * stands with authentication. Selector thread only.
 */
final class SensorConnection extends Connection {

    /**
     * Where a connection stands with authentication, on a server that has any (see {@link ServeurTCP}'s class
     * comment for the whole exchange).
     */
    enum Auth {
        /** Its values are cut as they come, each with the connection's current permit. */
        OPEN,
        /** No value yet (or acks requests only): the next value is cut alone, as its possible token. */
        AWAITING,
        /** That value is being decoded: nothing more is cut or read until the selector has decided. */
        PENDING,
        /** Refused or revoked: nothing more is read; it is closed after its error line. */
        REFUSED
    }

    private final FrameScanner scanner;
    private final Replies replies = new Replies();
    private final MemoryBudget.Account account = new MemoryBudget.Account();
    private long values;
    // What its input has been costing in flight, per byte scanned (the last scan's): how much of its room a read
    // may fill. Starts at 1 (the least any input costs) so that a connection reads generously until it shows.
    private long costPerByte = 1;
    private long partialSinceNanos = -1;
    // Bytes read but not scanned yet: the scan stopped when the connection's room in flight ran out.
    private byte[] unscanned = NOTHING;
    private Auth auth = Auth.OPEN;
    // What its values may write (null: anything); the value number that decides its authentication when PENDING.
    private Credential permit;
    private long gateIndex;
    private long authDeadlineNanos;
    private long discarded;

    private static final byte[] NOTHING = new byte[0];

    SensorConnection(long id, SocketChannel channel, SelectionKey key, long nowNanos, int maxValueBytes) {
        super(id, channel, key, nowNanos);
        this.scanner = new FrameScanner(maxValueBytes);
    }

    FrameScanner scanner() {
        return scanner;
    }

    Replies replies() {
        return replies;
    }

    MemoryBudget.Account account() {
        return account;
    }

    long costPerByte() {
        return costPerByte;
    }

    /** A scan of {@code bytes} charged {@code charged} in flight. */
    void scanned(long bytes, long charged) {
        if (bytes > 0) {
            costPerByte = Math.max(1, (charged + bytes - 1) / bytes);
        }
    }

    /**
     * Numbers the next value of this connection, from 1. The first one cut while {@link Auth#AWAITING} is the one
     * its authentication waits for.
     */
    long nextValueIndex() {
        values++;
        if (auth == Auth.AWAITING) {
            auth = Auth.PENDING;
            gateIndex = values;
        }
        return values;
    }

    Auth auth() {
        return auth;
    }

    void auth(Auth state) {
        auth = state;
    }

    /** Nothing may be read or cut: its authentication is being decided, or it failed. */
    boolean authBlocked() {
        return auth == Auth.PENDING || auth == Auth.REFUSED;
    }

    /** The value whose outcome decides its authentication (meaningful when {@link Auth#PENDING}). */
    long gateIndex() {
        return gateIndex;
    }

    /** When it must have authenticated by, on a server that requires it. */
    long authDeadlineNanos() {
        return authDeadlineNanos;
    }

    void authDeadlineNanos(long deadline) {
        authDeadlineNanos = deadline;
    }

    /** Counts bytes read from a refused connection only to drop them. */
    void discarded(long bytes) {
        discarded += bytes;
    }

    long discarded() {
        return discarded;
    }

    Credential permit() {
        return permit;
    }

    void permit(Credential permit) {
        this.permit = permit;
    }

    /** True when every value received so far has been stored or rejected. */
    boolean allHandled() {
        return replies.handled() == values;
    }

    /**
     * What this connection holds that only its client can release: partial value, bytes read and not scanned yet,
     * reply lines, unwritten output, TLS records partly received or not sent yet.
     */
    long heldBytes() {
        return scanner.carryFootprint() + unscanned.length + replies.footprint() + unwrittenBytes() + tlsBufferBytes();
    }

    /** What its TLS channel holds in buffers (records received or to send); 0 on the plaintext port. */
    long tlsHeld() {
        return tlsBufferBytes();
    }

        /** Bytes read and not scanned yet, to be scanned before anything read after them. */
    byte[] unscanned() {
        return unscanned;
    }

    /** Forgets what was kept to be scanned: the connection is refused, and nothing more of it is taken. */
    void dropUnscanned() {
        unscanned = NOTHING;
    }

    /** Keeps {@code data[from, to)} to be scanned later (nothing when {@code from == to}). */
    void unscanned(byte[] data, int from, int to) {
        unscanned = from == to ? NOTHING : java.util.Arrays.copyOfRange(data, from, to);
    }

    /**
     * Whether a value is partly received, as of {@code nowNanos}: a value that ends clears it, and the next partial
     * value starts the clock again.
     */
    void partialValue(boolean partial, long nowNanos) {
        if (!partial) {
            partialSinceNanos = -1;
        } else if (partialSinceNanos < 0) {
            partialSinceNanos = nowNanos;
        }
    }

    /** When the value partly received began to arrive (meaningless when none is). */
    long partialSinceNanos() {
        return partialSinceNanos;
    }
}
