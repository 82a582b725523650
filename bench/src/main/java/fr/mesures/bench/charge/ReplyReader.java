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
    }

    private static final byte[] ACK = "{\"ack\":".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_LINE = 1 << 16;

    private byte[] carry;
    private int carryLength;

    public void feed(byte[] data, int from, int to, Handler handler) {
        int start = from;
        for (int i = from; i < to; i++) {
            if (data[i] != '\n') {
                continue;
            }
            if (carryLength > 0) {
                append(data, start, i);
                line(carry, 0, carryLength, handler);
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

    /** Bytes of an unfinished line (a reply cut by the end of the stream is an error of the peer). */
    public int pending() {
        return carryLength;
    }

    private void append(byte[] data, int from, int to) {
        int needed = carryLength + (to - from);
        if (needed > MAX_LINE) {
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
