package fr.mesures.systemtests.support;

import fr.mesures.protocole.Reply;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * N connections flooding the server with the same bytes: each writes an optional prefix, then a unit (a few bytes
 * making a known number of values) over and over, as fast as the server takes it, for a fixed time, without
 * reading anything, and with a small receive buffer, so that whatever the server has to say piles up on its
 * side. Then each half-closes and reads what the server still sends until it closes: the
 * final ack says how many values it handled, and the error lines and {@code dropped} counts say what it told.
 *
 * <p>Writes are blocking and whole: a connection knows exactly how many units it handed to the kernel, hence how
 * many values the server must handle, which lets a test demand exact counts from the server's metrics.
 */
public final class Flood {

    private static final int CHUNK_BYTES = 64 * 1024;
    /**
     * Small, and set explicitly so that the kernel does not grow it. Not smaller: on loopback each segment the
     * server sends counts against it at its full 64 kB allocation, so a buffer of a few kB makes the client's
     * kernel drop the server's segments, and TCP's retransmission backoff then stalls the connection in both
     * directions for seconds at a time (seen with 1 kB: values written by the client reached the server only
     * after tens of seconds), which would be the test's doing, not the server's.
     */
    private static final int RECEIVE_BUFFER_BYTES = 64 * 1024;
    private static final int FINAL_REPLIES_TIMEOUT_MILLIS = 60_000;

    private final List<Connection> connections = new ArrayList<>();
    private final CountDownLatch written;
    private final CountDownLatch released = new CountDownLatch(1);

    /** What to send: {@code unit} holds {@code valuesPerUnit} top-level values. */
    public record Plan(byte[] prefix, long prefixValues, byte[] unit, long valuesPerUnit, int connections,
            Duration duration, long maxUnits, boolean hold) {

        public static Plan of(String unit, long valuesPerUnit) {
            return new Plan(new byte[0], 0, unit.getBytes(StandardCharsets.UTF_8), valuesPerUnit, 6,
                    Duration.ofSeconds(4), Long.MAX_VALUE, false);
        }

        /** Sent once first, e.g. {@code {"acks":true}} (1 value). */
        public Plan prefix(String text, long values) {
            return new Plan(text.getBytes(StandardCharsets.UTF_8), values, unit, valuesPerUnit, connections,
                    duration, maxUnits, hold);
        }

        public Plan connections(int n) {
            return new Plan(prefix, prefixValues, unit, valuesPerUnit, n, duration, maxUnits, hold);
        }

        /** How long each connection writes (default 4 s). */
        public Plan duration(Duration d) {
            return new Plan(prefix, prefixValues, unit, valuesPerUnit, connections, d, maxUnits, hold);
        }

        /** At most this many units per connection, rounded up to whole chunks of about 64 KiB. */
        public Plan maxUnits(long units) {
            return new Plan(prefix, prefixValues, unit, valuesPerUnit, connections, duration, units, hold);
        }

        /**
         * Once written, each connection stays open, still not reading, until {@link Flood#release()}: what the
         * server holds for it can be measured before the half-close lets it go.
         */
        public Plan holdOpen() {
            return new Plan(prefix, prefixValues, unit, valuesPerUnit, connections, duration, maxUnits, true);
        }

        public Flood start(int port) {
            return new Flood(this, port);
        }
    }

    /**
     * What one connection did: units written (whole), values sent in all, the reply lines read after its
     * half-close (raw, as received), and why it stopped early, if it did.
     */
    public record Outcome(long units, long values, long bytes, List<String> replies, String failure) {

        /** The last {@code {"ack": N}} received, 0 when none. */
        public long lastAck() {
            long ack = 0;
            for (String line : replies) {
                if (parse(line) instanceof Reply.Ack a) {
                    ack = Math.max(ack, a.count());
                }
            }
            return ack;
        }

        /** Error lines about a value (or a batch element) that were sent. */
        public long errorLines() {
            return replies.stream().filter(l -> parse(l) instanceof Reply.Error e && e.index() > 0).count();
        }

        /** The sum of the {@code dropped} counts: error lines the server did not send. */
        public long dropped() {
            return replies.stream().map(Outcome::parse).filter(r -> r instanceof Reply.Error e && e.dropped() > 0)
                    .mapToLong(r -> ((Reply.Error) r).dropped()).sum();
        }

        /** Lines that are not replies at all. */
        public List<String> unreadable() {
            return replies.stream().filter(l -> parse(l) == null).toList();
        }

        private static Reply parse(String line) {
            try {
                return Reply.parse(line);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
    }

    private Flood(Plan plan, int port) {
        byte[] chunk = repeat(plan.unit(), Math.max(1, CHUNK_BYTES / plan.unit().length));
        long unitsPerChunk = chunk.length / plan.unit().length;
        long deadline = System.nanoTime() + plan.duration().toNanos();
        written = new CountDownLatch(plan.connections());
        for (int i = 0; i < plan.connections(); i++) {
            Connection c = new Connection(this, plan, port, chunk, unitsPerChunk, deadline, i);
            connections.add(c);
            c.thread.start();
        }
    }

    /** Total values sent so far, over every connection (exact once {@link #await} returned). */
    public long values() {
        return connections.stream().mapToLong(c -> c.values).sum();
    }

    public long bytes() {
        return connections.stream().mapToLong(c -> c.bytes).sum();
    }

    /** Why connections stopped early so far, one line each: empty while all goes well. */
    public List<String> failures() {
        return connections.stream().filter(c -> c.failure != null).map(c -> c.thread.getName() + " " + c.failure)
                .toList();
    }

    /** True while some connection is still writing its flood. */
    public boolean writing() {
        return written.getCount() > 0;
    }

    /** Waits until every connection has written all it will write (or failed to). */
    public void awaitWritten(Duration timeout) throws InterruptedException {
        if (!written.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            abort();
            throw new IllegalStateException("flood connections still writing after " + timeout + " ("
                    + values() + " values written)");
        }
    }

    /** Lets connections held open by {@link Plan#holdOpen()} half-close and read their last replies. */
    public void release() {
        released.countDown();
    }

    /**
     * Waits for every connection to finish: its flood written, its half-close sent, the server's last replies
     * read until it closed.
     *
     * @throws IllegalStateException when a connection is still busy after {@code timeout}; every socket is closed
     */
    public List<Outcome> await(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Connection c : connections) {
            c.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        List<String> busy = connections.stream().filter(c -> c.thread.isAlive()).map(c -> c.thread.getName())
                .toList();
        if (!busy.isEmpty()) {
            abort();
            throw new IllegalStateException("flood connections still busy after " + timeout + ": " + busy
                    + " (" + values() + " values written)");
        }
        return connections.stream().map(Connection::outcome).toList();
    }

    /** Closes every socket now (a failed test must not leave flooders writing). */
    public void abort() throws InterruptedException {
        release();
        for (Connection c : connections) {
            c.close();
        }
        for (Connection c : connections) {
            c.thread.join(TimeUnit.SECONDS.toMillis(10));
        }
    }

    private static byte[] repeat(byte[] unit, int times) {
        byte[] all = new byte[unit.length * times];
        for (int i = 0; i < times; i++) {
            System.arraycopy(unit, 0, all, i * unit.length, unit.length);
        }
        return all;
    }

    private static final class Connection {
        final Thread thread;
        final Socket socket = new Socket();
        final List<String> replies = new ArrayList<>();
        volatile long units;
        volatile long values;
        volatile long bytes;
        volatile String failure;

        Connection(Flood flood, Plan plan, int port, byte[] chunk, long unitsPerChunk, long deadline, int n) {
            thread = new Thread(() -> run(flood, plan, port, chunk, unitsPerChunk, deadline), "flood-" + n);
            thread.setDaemon(true);
        }

        void run(Flood flood, Plan plan, int port, byte[] chunk, long unitsPerChunk, long deadline) {
            try {
                write(flood, plan, port, chunk, unitsPerChunk, deadline);
            } catch (InterruptedException e) {
                failure = "interrupted";
                close();
                return;
            }
            readLastReplies();
        }

        private void write(Flood flood, Plan plan, int port, byte[] chunk, long unitsPerChunk, long deadline)
                throws InterruptedException {
            boolean counted = false;
            try {
                // Before connecting: TCP agrees on the window scale during the handshake.
                socket.setReceiveBufferSize(RECEIVE_BUFFER_BYTES);
                socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                OutputStream out = socket.getOutputStream();
                out.write(plan.prefix());
                values += plan.prefixValues();
                bytes += plan.prefix().length;
                while (System.nanoTime() - deadline < 0 && units < plan.maxUnits()) {
                    out.write(chunk);
                    units += unitsPerChunk;
                    values += unitsPerChunk * plan.valuesPerUnit();
                    bytes += chunk.length;
                }
                out.flush();
                flood.written.countDown();
                counted = true;
                if (plan.hold()) {
                    flood.released.await();
                }
                socket.shutdownOutput();
            } catch (IOException e) {
                // A server that died or cut the connection: the chunk being written may be partly sent.
                failure = "while writing: " + e;
                if (!counted) {
                    flood.written.countDown();
                }
            }
        }

        private void readLastReplies() {
            try {
                socket.setSoTimeout(FINAL_REPLIES_TIMEOUT_MILLIS);
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                        StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    synchronized (replies) {
                        replies.add(line);
                    }
                }
            } catch (IOException e) {
                if (failure == null) {
                    failure = "while reading the last replies: " + e;
                }
            } finally {
                close();
            }
        }

        Outcome outcome() {
            synchronized (replies) {
                return new Outcome(units, values, bytes, List.copyOf(replies), failure);
            }
        }

        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // already gone
            }
        }
    }
}
