package fr.mesures.serveur.protocol;

import fr.mesures.protocole.RejectReason;
import fr.mesures.serveur.memory.Footprint;
import java.util.Arrays;

/**
 * Cuts a connection's byte stream into complete top-level JSON values without parsing them: a small state
 * machine that knows only strings, escapes and bracket depth. Parsing is left to the workers.
 *
 * <p>Between values it skips JSON whitespace; anything else that cannot start a value ({@code {} or {@code [})
 * is garbage, reported once and skipped up to and including the next newline. A value ends when its brackets
 * balance. A value longer than the maximum is reported as soon as it passes the limit and is then skipped to its
 * end without being kept. A raw newline inside a string cannot be valid JSON, so it ends the broken value there,
 * which lets a line-oriented client recover from an unterminated string.
 *
 * <p>Memory per connection is the part of one value that has arrived: its carry array grows in steps of
 * {@link Footprint#CARRY_STEP} up to the maximum value size, never beyond, and {@link #maxScan} says how many bytes
 * may be scanned without it growing past a given size, so that the caller can read no more than the connection may
 * hold. One scanner per connection, used by the selector thread only.
 */
public final class FrameScanner {

    /** What the scanner finds. */
    public interface Sink {
        /** A complete value in {@code data[offset, offset + length)}; the bytes are only valid during the call. */
        void value(byte[] data, int offset, int length);

        /** A value that could not be cut (garbage, too large, unterminated string, truncated). */
        void rejected(RejectReason reason, String message);

        /** Asked after each value or rejection: true stops the scan there, for the caller to resume it later. */
        default boolean full() {
            return false;
        }
    }

    private enum State { BETWEEN, GARBAGE, VALUE, STRING, ESCAPE }

    private static final byte[] NO_CARRY = new byte[0];

    private final int maxValueBytes;
    private final int maxCarry;
    private State state = State.BETWEEN;
    private boolean atStart = true;
    // Inside a value: bracket depth (long: a hostile stream of '[' may go past 2^31), and whether the value is
    // too large and only being skipped.
    private long depth;
    private boolean skipping;
    // The beginning of a value that started in an earlier read.
    private byte[] carry = NO_CARRY;
    private int carryLength;

    public FrameScanner(int maxValueBytes) {
        this.maxValueBytes = maxValueBytes;
        this.maxCarry = steps(maxValueBytes);
    }

    /**
     * Scans {@code data[from, to)}, reporting every value that completes in it, until the sink is {@link Sink#full}.
     *
     * @return where the scan stopped: {@code to} when every byte was scanned; otherwise the bytes from there on
     *         are still to be scanned, by a later call, before anything that follows them
     */
    public int scan(byte[] data, int from, int to, Sink sink) {
        int i = from;
        if (atStart) {
            i = skipByteOrderMark(data, i, to);
            atStart = false;
        }
        // Where the current value starts in this chunk, if it started here.
        int valueStart = state == State.VALUE || state == State.STRING || state == State.ESCAPE ? from : -1;
        while (i < to) {
            switch (state) {
                case BETWEEN -> {
                    byte b = data[i];
                    if (b == '{' || b == '[') {
                        state = State.VALUE;
                        depth = 1;
                        skipping = false;
                        carryLength = 0;
                        valueStart = i;
                        i++;
                    } else if (b == ' ' || b == '\n' || b == '\r' || b == '\t') {
                        i++;
                    } else {
                        sink.rejected(RejectReason.GARBAGE, "garbage: " + describe(b)
                                + " cannot start a value (a value starts with '{' or '['); skipped to the end of the line");
                        state = State.GARBAGE;
                        if (sink.full()) {
                            return i;
                        }
                    }
                }
                case GARBAGE -> {
                    while (i < to && data[i] != '\n') {
                        i++;
                    }
                    if (i < to) {
                        i++;
                        state = State.BETWEEN;
                    }
                }
                case VALUE -> {
                    while (i < to) {
                        byte b = data[i++];
                        if (b == '"') {
                            state = State.STRING;
                            break;
                        } else if (b == '{' || b == '[') {
                            depth++;
                        } else if ((b == '}' || b == ']') && --depth == 0) {
                            endValue(data, valueStart, i, sink);
                            valueStart = -1;
                            if (sink.full()) {
                                return i;
                            }
                            break;
                        }
                    }
                }
                case STRING -> {
                    while (i < to) {
                        byte b = data[i++];
                        if (b == '"') {
                            state = State.VALUE;
                            break;
                        } else if (b == '\\') {
                            state = State.ESCAPE;
                            break;
                        } else if (b == '\n') {
                            brokenString(sink);
                            valueStart = -1;
                            if (sink.full()) {
                                return i;
                            }
                            break;
                        }
                    }
                }
                case ESCAPE -> {
                    // An escape cannot make a raw newline valid either.
                    if (data[i++] == '\n') {
                        brokenString(sink);
                        valueStart = -1;
                        if (sink.full()) {
                            return i;
                        }
                    } else {
                        state = State.STRING;
                    }
                }
            }
        }
        if (valueStart >= 0 && state != State.BETWEEN && state != State.GARBAGE) {
            keepPartial(data, valueStart, to, sink);
        }
        return to;
    }

    /** The stream ended: a value in progress is truncated. */
    public void endOfInput(Sink sink) {
        if ((state == State.VALUE || state == State.STRING || state == State.ESCAPE) && !skipping) {
            sink.rejected(RejectReason.TRUNCATED, "the connection ended in the middle of a value");
        }
        state = State.BETWEEN;
        carryLength = 0;
        carry = NO_CARRY;
    }

    /** Bytes of an unfinished value held for this connection. */
    public int bufferedBytes() {
        return carryLength;
    }

    /**
     * Heap held for the unfinished value: its array's length, allocated in steps (the array's header is part of
     * a connection's fixed cost, {@link Footprint#CONNECTION}).
     */
    public long carryFootprint() {
        return carry.length;
    }

    /**
     * How many bytes may be scanned now without the partial value's array growing by more than {@code growth}
     * bytes: a read of n bytes leaves at most n bytes of a new value, or the current one n bytes longer (a value
     * being skipped holds nothing, but the next one may start in the same read). {@link Long#MAX_VALUE} when the
     * array may already reach the largest size a value can have.
     */
    public long maxScan(long growth) {
        long largest = (carry.length + Math.max(0, growth)) / Footprint.CARRY_STEP * Footprint.CARRY_STEP;
        if (largest >= maxCarry) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, largest - (inValue() ? carryLength : 0));
    }

    private boolean inValue() {
        return state == State.VALUE || state == State.STRING || state == State.ESCAPE;
    }

    /** A raw newline inside a string: the value is broken, and ends here. */
    private void brokenString(Sink sink) {
        if (!skipping) {
            sink.rejected(RejectReason.MALFORMED_JSON,
                    "malformed JSON: a string is not closed before the end of the line");
        }
        state = State.BETWEEN;
        skipping = false;
        resetCarry();
    }

    private void endValue(byte[] data, int valueStart, int end, Sink sink) {
        state = State.BETWEEN;
        if (skipping) {
            skipping = false;
            return;
        }
        long total = (long) carryLength + (end - valueStart);
        if (total > maxValueBytes) {
            sink.rejected(RejectReason.TOO_LARGE, tooLarge());
        } else if (carryLength == 0) {
            sink.value(data, valueStart, end - valueStart);
        } else {
            append(data, valueStart, end);
            sink.value(carry, 0, carryLength);
        }
        resetCarry();
    }

    /**
     * The value is over: its array goes back at once. Values usually arrive whole in one read and need none; a
     * kept array would take an idle connection's reserve, and leave it no room to read when the pool is full.
     */
    private void resetCarry() {
        carryLength = 0;
        carry = NO_CARRY;
    }

    /** The chunk ended inside a value: keep its bytes, unless the value is already too large. */
    private void keepPartial(byte[] data, int valueStart, int end, Sink sink) {
        if (skipping) {
            return;
        }
        if ((long) carryLength + (end - valueStart) > maxValueBytes) {
            sink.rejected(RejectReason.TOO_LARGE, tooLarge());
            skipping = true;
            carryLength = 0;
            carry = NO_CARRY;
            return;
        }
        append(data, valueStart, end);
    }

    private void append(byte[] data, int from, int to) {
        int needed = carryLength + (to - from);
        if (needed > carry.length) {
            carry = Arrays.copyOf(carry, Math.min(maxCarry, steps(needed)));
        }
        System.arraycopy(data, from, carry, carryLength, to - from);
        carryLength = needed;
    }

    /** {@code bytes} rounded up to whole steps. */
    private static int steps(int bytes) {
        return (int) ((bytes + Footprint.CARRY_STEP - 1L) / Footprint.CARRY_STEP * Footprint.CARRY_STEP);
    }

    private String tooLarge() {
        return "value is larger than the maximum of " + maxValueBytes + " bytes; skipped to its end";
    }

    private static int skipByteOrderMark(byte[] data, int i, int to) {
        if (to - i >= 3 && data[i] == (byte) 0xEF && data[i + 1] == (byte) 0xBB && data[i + 2] == (byte) 0xBF) {
            return i + 3;
        }
        return i;
    }

    private static String describe(byte b) {
        if (b >= 0x21 && b <= 0x7E) {
            return "'" + (char) b + "'";
        }
        return String.format("byte 0x%02X", b & 0xFF);
    }
}
