package fr.mesures.systemtests.support;

import fr.mesures.protocole.Reply;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Well-behaved clients: many connections on one selector thread, each asking for acknowledgements
 * ({@code {"acks":true}}, value 1), then streaming the readings of its own sensor, and recording exactly what the
 * server acknowledged.
 *
 * <p>Connection {@code n} sends as sensor {@code PREFIX_n}; its reading {@code i} (from 0) has timestamp
 * {@code first + i} and temperature {@link #temperature(long) temperature(i)}, and is value {@code i + 2} of the
 * connection, so {@code {"ack": N}} covers readings {@code 0 .. N-2}. A test can therefore say, per connection,
 * which readings were made, written, and acknowledged, and compare with the database.
 *
 * <p>Each connection keeps at most {@code window} readings unacknowledged (a sensor's buffer), either as fast as
 * the acks come back or one every {@code interval}. The latency of every acknowledged reading (made to
 * acknowledged) is recorded.
 */
public final class AckedStreams implements AutoCloseable {

    private static final byte[] ACKS = Reply.ACKS_REQUEST.getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_READING_BYTES = 128;

    private final Plan plan;
    private final List<Stream> streams = new ArrayList<>();
    private final Selector selector;
    private final Thread thread;
    private final Recorder latencyMicros = new Recorder(3);
    private volatile boolean stopRequested;
    private volatile boolean shutdown;
    private volatile Throwable failure;

    /** What to send; see the class comment. */
    public record Plan(String prefix, int connections, long firstTimestamp, int window, Duration interval,
            long limit) {

        public static Plan of(String prefix, int connections) {
            return new Plan(prefix, connections, 1_600_000_000_000L, 1000, Duration.ZERO, Long.MAX_VALUE);
        }

        public Plan firstTimestamp(long first) {
            return new Plan(prefix, connections, first, window, interval, limit);
        }

        public Plan window(int readings) {
            return new Plan(prefix, connections, firstTimestamp, readings, interval, limit);
        }

        /** One reading per connection every {@code every} (0: as fast as the window allows). */
        public Plan interval(Duration every) {
            return new Plan(prefix, connections, firstTimestamp, window, every, limit);
        }

        /** At most {@code readings} per connection. */
        public Plan limit(long readings) {
            return new Plan(prefix, connections, firstTimestamp, window, interval, readings);
        }

        public AckedStreams open(int port) throws IOException {
            return new AckedStreams(this, port);
        }
    }

    /** What one connection did, as seen from the client. */
    public record State(String capteurId, long firstTimestamp, long produced, long written, long acked,
            List<String> errors, String end) {
    }

    /** Temperature of reading {@code i}: varied, always valid, and known to the test. */
    public static double temperature(long i) {
        return ((i * 37) % 1000) / 10.0 - 20.0;
    }

    /**
     * Replaces {@code text} with the reading as one NDJSON line: the bytes of {@link fr.mesures.protocole.Reading#toJson()}, written into
     * a reused builder, since the client thread makes a line per reading for up to a hundred connections at full
     * speed on a machine it shares with the server. AckedStreamsTest checks it against {@code toJson()}.
     */
    static void ndjson(StringBuilder text, String capteurId, double temperature, long timestamp) {
        text.setLength(0);
        text.append("{\"capteur_id\":\"").append(capteurId).append("\",\"temperature\":").append(temperature)
                .append(",\"timestamp\":").append(timestamp).append("}\n");
    }

    private AckedStreams(Plan plan, int port) throws IOException {
        this.plan = plan;
        this.selector = Selector.open();
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        for (int n = 1; n <= plan.connections(); n++) {
            streams.add(new Stream(plan.prefix() + "_" + n, address));
        }
        thread = new Thread(this::run, "acked-streams-" + plan.prefix());
        thread.setDaemon(true);
        thread.start();
    }

    // ------------------------------------------------------------------------------------------ for the test

    /** Stop making readings; each connection half-closes once its last reading is written. */
    public void stop() {
        stopRequested = true;
        selector.wakeup();
    }

    /** True once every connection has ended (final replies read, or the server went away). */
    public boolean allEnded() {
        checkFailure();
        return streams.stream().allMatch(s -> s.end != null);
    }

    public List<State> states() {
        checkFailure();
        return streams.stream().map(Stream::state).toList();
    }

    public long acked() {
        checkFailure();
        return streams.stream().mapToLong(s -> s.acked).sum();
    }

    /** Bytes handed to the kernel, on every connection (what the server has read is at most this). */
    public long bytesWritten() {
        return streams.stream().mapToLong(s -> s.bytesWritten).sum();
    }

    /** Latency (made to acknowledged, microseconds) of the readings acknowledged since the previous call. */
    public Histogram latencySinceLastCall() {
        return latencyMicros.getIntervalHistogram();
    }

    public static String describe(Histogram h) {
        if (h.getTotalCount() == 0) {
            return "no readings";
        }
        return String.format(Locale.ROOT, "%d readings, p50 %.1f ms, p99 %.1f ms, max %.1f ms", h.getTotalCount(),
                h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0);
    }

    @Override
    public void close() throws InterruptedException {
        shutdown = true;
        selector.wakeup();
        thread.join(TimeUnit.SECONDS.toMillis(30));
    }

    private void checkFailure() {
        if (failure != null) {
            throw new IllegalStateException("the client thread failed", failure);
        }
    }

    // ------------------------------------------------------------------------------------------ client thread

    private void run() {
        try {
            for (Stream s : streams) {
                s.connect();
            }
            while (!shutdown) {
                long now = System.nanoTime();
                long waitNanos = TimeUnit.MILLISECONDS.toNanos(50);
                for (Stream s : streams) {
                    if (s.channel != null && s.end == null) {
                        s.produce(now);
                        s.flush();
                        if (!plan.interval().isZero() && !s.outputShut) {
                            waitNanos = Math.min(waitNanos, s.nextDueNanos - now);
                        }
                    }
                }
                selector.select(key -> {
                    Stream s = (Stream) key.attachment();
                    if (key.isValid() && key.isReadable()) {
                        s.read();
                    }
                    if (key.isValid() && key.isWritable()) {
                        s.flush();
                    }
                }, Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos)));
            }
        } catch (IOException | RuntimeException | Error e) {
            failure = e;
        } finally {
            for (Stream s : streams) {
                s.closeChannel();
            }
            try {
                selector.close();
            } catch (IOException e) {
                // nothing left to do
            }
        }
    }

    private final class Stream {
        final String capteurId;
        final InetSocketAddress address;
        final long[] madeAtNanos;
        final int mask;
        final ByteBuffer pending = ByteBuffer.allocate(64 * 1024).flip();
        final ByteBuffer in = ByteBuffer.allocate(16 * 1024);
        final ByteArrayOutputStream line = new ByteArrayOutputStream();
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        final StringBuilder text = new StringBuilder(MAX_READING_BYTES);
        SocketChannel channel;
        SelectionKey key;
        boolean acksSent;
        boolean outputShut;
        String writeFailure;
        long produced;
        long inPending;
        long nextDueNanos = System.nanoTime();
        volatile long producedPublished;
        volatile long written;
        volatile long bytesWritten;
        volatile long acked;
        volatile String end;

        Stream(String capteurId, InetSocketAddress address) {
            this.capteurId = capteurId;
            this.address = address;
            int size = Integer.highestOneBit(Math.max(1, plan.window()) * 2 - 1);
            this.madeAtNanos = new long[Math.max(2, size * 2)];
            this.mask = madeAtNanos.length - 1;
        }

        State state() {
            return new State(capteurId, plan.firstTimestamp(), producedPublished, written, acked,
                    List.copyOf(errors), end);
        }

        void connect() {
            try {
                channel = SocketChannel.open();
                channel.socket().connect(address, 10_000);
                channel.configureBlocking(false);
                // Paced clients measure latency: no Nagle delay behind a delayed TCP ack.
                channel.setOption(StandardSocketOptions.TCP_NODELAY, !plan.interval().isZero());
                key = channel.register(selector, SelectionKey.OP_READ, this);
            } catch (IOException e) {
                end("connect failed: " + e.getMessage());
            }
        }

        void produce(long now) {
            if (pending.hasRemaining() || outputShut) {
                return;
            }
            if (stopRequested) {
                shutOutput();
                return;
            }
            long room = Math.min(plan.window() - (produced - acked), plan.limit() - produced);
            if (!plan.interval().isZero()) {
                if (now - nextDueNanos < 0) {
                    return;
                }
                long step = plan.interval().toNanos();
                // Behind schedule (a paused server): resume the pace, do not burst to catch up.
                nextDueNanos = Math.max(nextDueNanos + step, now);
                room = Math.min(room, 1);
            }
            if (room <= 0 && acksSent) {
                return;
            }
            pending.clear();
            if (!acksSent) {
                pending.put(ACKS);
                acksSent = true;
            }
            long n = 0;
            while (n < room && pending.remaining() >= MAX_READING_BYTES) {
                putReading(produced, now);
                produced++;
                n++;
            }
            pending.flip();
            inPending = n;
            producedPublished = produced;
        }

        private void putReading(long i, long now) {
            ndjson(text, capteurId, temperature(i), plan.firstTimestamp() + i);
            for (int c = 0; c < text.length(); c++) {
                pending.put((byte) text.charAt(c));
            }
            madeAtNanos[(int) (i & mask)] = now;
        }

        void flush() {
            if (channel == null || end != null || !pending.hasRemaining()) {
                return;
            }
            try {
                bytesWritten += channel.write(pending);
            } catch (IOException e) {
                // The server closed (a shutdown while we were still sending): stop writing, but read on, since
                // its last acknowledgement may be waiting in our receive buffer.
                pending.position(pending.limit());
                inPending = 0;
                outputShut = true;
                writeFailure = e.getMessage();
                key.interestOps(SelectionKey.OP_READ);
                return;
            }
            if (pending.hasRemaining()) {
                key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            } else {
                key.interestOps(SelectionKey.OP_READ);
                written += inPending;
                inPending = 0;
                if (stopRequested) {
                    shutOutput();
                }
            }
        }

        private void shutOutput() {
            if (!outputShut && end == null) {
                outputShut = true;
                try {
                    channel.shutdownOutput();
                } catch (IOException e) {
                    end("shutdown failed: " + e.getMessage());
                }
            }
        }

        void read() {
            in.clear();
            int n;
            try {
                n = channel.read(in);
            } catch (IOException e) {
                end("reset: " + e.getMessage() + (writeFailure != null ? " (write failed: " + writeFailure + ")" : ""));
                return;
            }
            if (n < 0) {
                end(writeFailure != null ? "closed by the server (write failed: " + writeFailure + ")"
                        : outputShut ? "finished" : "closed by the server");
                return;
            }
            long now = System.nanoTime();
            byte[] bytes = in.array();
            for (int i = 0; i < n; i++) {
                if (bytes[i] == '\n') {
                    reply(line.toString(StandardCharsets.UTF_8), now);
                    line.reset();
                } else {
                    line.write(bytes[i]);
                }
            }
        }

        private void reply(String text, long now) {
            Reply reply;
            try {
                reply = Reply.parse(text);
            } catch (IllegalArgumentException e) {
                errors.add("not a reply: " + text);
                return;
            }
            if (reply instanceof Reply.Ack ack) {
                long covered = Math.min(produced, ack.count() - 1);
                for (long i = acked; i < covered; i++) {
                    latencyMicros.recordValue(Math.max(0, (now - madeAtNanos[(int) (i & mask)]) / 1000));
                }
                if (covered > acked) {
                    acked = covered;
                }
            } else {
                errors.add(text);
            }
        }

        void end(String why) {
            if (end == null) {
                end = why;
            }
            closeChannel();
        }

        void closeChannel() {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    // closing a dead socket: nothing to report
                }
            }
        }
    }
}
