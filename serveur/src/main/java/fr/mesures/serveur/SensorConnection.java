package fr.mesures.serveur;

import fr.mesures.serveur.network.Connection;
import fr.mesures.serveur.protocol.FrameScanner;
import fr.mesures.serveur.protocol.Replies;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A sensor's connection: the network state of {@link Connection} plus the protocol state of one client, its
 * framing state, how many values it has sent, and the replies it is owed. Selector thread only.
 */
final class SensorConnection extends Connection {

    private final FrameScanner scanner;
    private final Replies replies = new Replies();
    private long values;
    private long inFlightBytes;

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

    /** Numbers the next value of this connection, from 1. */
    long nextValueIndex() {
        return ++values;
    }

    /** Bytes of this connection's values between cutting and acknowledging. */
    long inFlightBytes() {
        return inFlightBytes;
    }

    void inFlight(long bytes) {
        inFlightBytes += bytes;
    }

    /** True when every value received so far has been stored or rejected. */
    boolean allHandled() {
        return replies.handled() == values;
    }
}
