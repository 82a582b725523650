package fr.mesures.capteur.network;

import fr.mesures.common.tls.TlsAlerts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import tlschannel.ClientTlsChannel;
import tlschannel.NeedsReadException;
import tlschannel.NeedsWriteException;

/**
 * One TCP connection of a sensor to the server, non-blocking, on an {@link EventLoop}: the socket, the bytes
 * waiting to be written, the number of values written so far (the server counts them from 1 on every
 * connection), and the unfinished reply line. Loop thread only.
 *
 * <p>Over TLS the bytes go through a {@code tls-channel} {@link ClientTlsChannel} over the socket, made once the TCP
 * connection is up; its handshake happens inside the first writes and reads. A TLS write may need the server's
 * next message first ({@link #writeWaitsForRead}): it is retried after the next read instead of spinning on a
 * writable socket.
 */
public final class Connection {

    /** Enough for about a hundred readings; a thousand sensors keep 8 MiB of these in all. */
    private static final int OUT_BUFFER_BYTES = 8 * 1024;
    /** A refusal line or a TLS alert is a few hundred bytes: this is plenty, and bounds what a peer can make us read. */
    private static final int LAST_WORDS_BYTES = 32 * 1024;

    private final SocketChannel channel;
    private final SelectionKey key;
    /** Makes the TLS engine once connected; null for plaintext. */
    private final Supplier<SSLEngine> tls;
    private ByteChannel io;
    private boolean writeWaitsForRead;
    /** TLS: encrypted bytes the socket did not take (the channel keeps them): written before anything else. */
    private boolean tlsWritePending;
    private final ByteBuffer out = ByteBuffer.allocate(OUT_BUFFER_BYTES);
    private final ReplyLines replies = new ReplyLines();
    private long valuesWritten;
    private boolean connected;

    private Connection(SocketChannel channel, SelectionKey key, Supplier<SSLEngine> tls) {
        this.channel = channel;
        this.key = key;
        this.tls = tls;
        this.io = channel;
    }

    /**
     * Starts connecting; {@link #finishConnect()} completes it when the key is connectable.
     *
     * @param tls makes the client engine (host name checked, SNI) for a TLS connection; null for plaintext
     */
    public static Connection open(InetSocketAddress server, EventLoop loop, EventLoop.Handler handler,
            Supplier<SSLEngine> tls) throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            channel.configureBlocking(false);
            // Nagle stays on: a sensor measuring every second writes alone and leaves at once anyway, and sensors
            // at full speed get their readings packed into fewer packets (measured: half the system time, 1,000
            // sensors as fast as possible, same throughput).
            channel.setOption(StandardSocketOptions.TCP_NODELAY, false);
            channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            boolean connected = channel.connect(server);
            SelectionKey key = loop.register(channel, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT,
                    handler);
            Connection connection = new Connection(channel, key, tls);
            if (connected) {
                connection.connected();
            }
            return connection;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public boolean isConnected() {
        return connected;
    }

    /** @return true when connected; false while the handshake is still under way */
    public boolean finishConnect() throws IOException {
        if (!connected && channel.finishConnect()) {
            connected();
            key.interestOps(SelectionKey.OP_READ);
        }
        return connected;
    }

    private void connected() {
        connected = true;
        if (tls != null) {
            io = ClientTlsChannel.newBuilder(channel, tls.get()).build();
        }
    }

    public SelectionKey key() {
        return key;
    }

    /**
     * Queues one value (a line of JSON, ASCII) for writing.
     *
     * @return the value's number on this connection, or -1 when the buffer has no room for it now
     */
    public long append(String json) {
        int length = json.length();
        if (length > out.remaining()) {
            return -1;
        }
        for (int i = 0; i < length; i++) {
            // Identifiers are ASCII by the protocol's rule and numbers are ASCII, so a char is a byte.
            out.put((byte) json.charAt(i));
        }
        return ++valuesWritten;
    }

    /**
     * Writes what the socket takes now.
     *
     * @return true when nothing is left to write
     */
    public boolean flush() throws IOException {
        if (out.position() == 0 && !tlsWritePending) {
            return true;
        }
        out.flip();
        tlsWritePending = false;
        try {
            // With nothing new, a TLS channel still writes what it holds.
            io.write(out);
        } catch (NeedsWriteException e) {
            // TLS: what it took waits encrypted inside the channel; the socket is full.
            tlsWritePending = true;
            return false;
        } catch (NeedsReadException e) {
            writeWaitsForRead = true;
            return false;
        } finally {
            out.compact();
        }
        return out.position() == 0;
    }

    /** True once after a read when a TLS write was waiting for the server's bytes: write again now. */
    public boolean writeAfterRead() {
        boolean again = writeWaitsForRead;
        writeWaitsForRead = false;
        return again;
    }

    /** Asks to be told when the socket can take more bytes (or stops asking). */
    public void wantWrite(boolean want) {
        if (key.isValid()) {
            // A write waiting for the server's bytes would find the socket writable at once, again and again.
            boolean write = want && !writeWaitsForRead;
            int ops = write ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ;
            if (key.interestOps() != ops) {
                key.interestOps(ops);
            }
        }
    }

    /**
     * Reads what has arrived and hands each complete reply line to {@code lines}.
     *
     * @param scratch a buffer to read into, shared by the loop
     * @return false when the server closed its side
     */
    public boolean read(ByteBuffer scratch, Consumer<String> lines) throws IOException {
        while (true) {
            scratch.clear();
            int n;
            try {
                n = io.read(scratch);
            } catch (NeedsReadException e) {
                return true;
            } catch (NeedsWriteException e) {
                // TLS: its handshake has bytes the socket does not take yet; the next flush writes them.
                tlsWritePending = true;
                wantWrite(true);
                return true;
            }
            if (n < 0) {
                return false;
            }
            if (n == 0) {
                return true;
            }
            scratch.flip();
            replies.feed(scratch, lines);
            // A TLS read hands over one record: read on until the channel needs the socket again.
            if (!channel.isOpen() || (io == channel && n < scratch.capacity())) {
                return true;
            }
        }
    }

    /**
     * After a failed write: reads the server's last words, which the failure may have left unread in the socket. A
     * server that refuses the sensor writes one line (or a TLS alert) and closes; when readings it never read were
     * still arriving, its close resets the connection, and the sensor's next write fails (broken pipe) before its
     * next read would have found the line. Reads what has arrived, without waiting and at most
     * {@link #LAST_WORDS_BYTES}, hands each complete reply line to {@code lines}, and returns the TLS failure those
     * bytes carry (the JDK's exception for a fatal alert, {@code "Received fatal alert: ..."}), or null.
     *
     * <p>Over TLS the bytes go straight to the engine: the TLS channel gives up on a failed write. Bytes it had
     * already taken from the socket (part of a record) are lost with it; then nothing is found, as before.
     */
    public SSLException lastWords(Consumer<String> lines) {
        if (!connected) {
            return null;
        }
        ByteBuffer raw = ByteBuffer.allocate(LAST_WORDS_BYTES);
        try {
            while (raw.hasRemaining() && channel.read(raw) > 0) {
                // what has arrived, up to the bound
            }
        } catch (IOException e) {
            // the connection is gone: what was read before is still worth a look
        }
        raw.flip();
        try {
            if (io == channel) {
                replies.feed(raw, lines);
                return null;
            }
            SSLEngine engine = ((ClientTlsChannel) io).getSslEngine();
            ByteBuffer plain = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
            while (raw.hasRemaining()) {
                plain.clear();
                SSLEngineResult result = engine.unwrap(raw, plain);
                plain.flip();
                replies.feed(plain, lines);
                if (result.getStatus() != SSLEngineResult.Status.OK || result.bytesConsumed() == 0) {
                    break;
                }
            }
        } catch (SSLException e) {
            return e;
        } catch (IOException | RuntimeException e) {
            // A line too long, an engine in a state that cannot unwrap: no last words, the failure stands as it is.
        }
        return null;
    }

    /**
     * After a TLS failure of this side (the server's certificate not trusted): sends the server the alert that says
     * why, which tls-channel would drop, so that the server counts a certificate failure and not a closed socket.
     */
    public void sendTlsAlert() {
        if (io instanceof ClientTlsChannel tlsChannel) {
            TlsAlerts.send(tlsChannel.getSslEngine(), channel);
        }
    }

    /** Closes the socket; unread replies and unwritten bytes are discarded. */
    public void close() {
        key.cancel();
        try {
            io.close();
        } catch (IOException e) {
            // Nothing to do: the sensor already treats this connection as gone.
        }
    }
}
