package fr.mesures.bench.charge;

import fr.mesures.protocole.Reply;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Cuts the server's replies (one JSON object per line) out of what a connection reads, in any chunking. The
 * common line, {@code {"ack":N}}, is recognised without allocating; anything else goes through
 * {@link Reply#parse}. One per connection; holds only an unfinished line.
 */
public final class ReplyReader {

    /** What the lines say. */
    public interface Handler {
        void ack(long n);

        void error(Reply.Error error);

        /** A line that is not a reply at all. */
        void garbage(String line);

        /**
         * A line longer than any reply (more than {@value #MAX_LINE} bytes kept across reads): not parsed, and
         * {@code bytes} long in all.
         */
        void tooLong(long bytes);

        /** The stream ended in the middle of a line ({@code start}: what had arrived of it). */
        void cut(String start);
    }

    private static final byte[] ACK = "{\"ack\":".getBytes(StandardCharsets.US_ASCII);
    static final int MAX_LINE = 1 << 16;

    private byte[] carry;
    private int carryLength;
    /** Bytes of an over-long line dropped so far; -1 when not inside one. */
    private long skipped = -1;

    public void feed(byte[] data, int from, int to, Handler handler) {
        int start = from;
        for (int i = from; i < to; i++) {
            if (data[i] != '\n') {
                continue;
            }
            if (skipped >= 0) {
                handler.tooLong(skipped + (i - start));
                skipped = -1;
            } else if (carryLength > 0) {
                append(data, start, i);
                if (skipped >= 0) {
                    handler.tooLong(skipped);
                    skipped = -1;
                } else {
                    line(carry, 0, carryLength, handler);
                }
                carryLength = 0;
            } else {
                line(data, start, i, handler);
            }
            start = i + 1;
        }
        if (start < to) {
            append(data, start, to);
        }
    }

    /**
     * The peer closed its side: a line it had begun is an error (the last reply cut short, so an ack may be
     * missing).
     */
    public void endOfStream(Handler handler) {
        if (skipped >= 0) {
            handler.tooLong(skipped);
        } else if (carryLength > 0) {
            handler.cut(new String(carry, 0, Math.min(carryLength, 200), StandardCharsets.UTF_8));
        }
        skipped = -1;
        carryLength = 0;
    }

    private void append(byte[] data, int from, int to) {
        if (skipped >= 0) {
            skipped += to - from;
            return;
        }
        int needed = carryLength + (to - from);
        if (needed > MAX_LINE) {
            // No reply is this long: drop it, but keep counting to its end so that its tail is not taken for a
            // line of its own, and report it once there.
            skipped = needed;
            carryLength = 0;
            return;
        }
        if (carry == null || needed > carry.length) {
            carry = Arrays.copyOf(carry == null ? new byte[0] : carry, Math.max(needed, 256));
        }
        System.arraycopy(data, from, carry, carryLength, to - from);
        carryLength = needed;
    }

    private static void line(byte[] data, int from, int to, Handler handler) {
        if (to > from && data[to - 1] == '\r') {
            to--;
        }
        long ack = fastAck(data, from, to);
        if (ack >= 0) {
            handler.ack(ack);
            return;
        }
        String text = new String(data, from, to - from, StandardCharsets.UTF_8);
        if (text.isBlank()) {
            return;
        }
        try {
            Reply reply = Reply.parse(text);
            if (reply instanceof Reply.Ack a) {
                handler.ack(a.count());
            } else {
                handler.error((Reply.Error) reply);
            }
        } catch (IllegalArgumentException e) {
            handler.garbage(text);
        }
    }

    /** {@code {"ack":N}} exactly, else -1. */
    static long fastAck(byte[] data, int from, int to) {
        int n = ACK.length;
        if (to - from < n + 2 || data[to - 1] != '}') {
            return -1;
        }
        for (int i = 0; i < n; i++) {
            if (data[from + i] != ACK[i]) {
                return -1;
            }
        }
        long value = 0;
        int digits = 0;
        for (int i = from + n; i < to - 1; i++) {
            byte b = data[i];
            if (b < '0' || b > '9' || ++digits > 18) {
                return -1;
            }
            value = value * 10 + (b - '0');
        }
        return digits == 0 ? -1 : value;
    }
}
