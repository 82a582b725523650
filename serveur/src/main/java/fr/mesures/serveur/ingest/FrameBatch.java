package fr.mesures.serveur.ingest;

import fr.mesures.protocole.Reading;
import fr.mesures.protocole.RejectReason;
import fr.mesures.serveur.auth.Credential;
import fr.mesures.serveur.storage.ReadingBlock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The unit of work of the pipeline: the values the selector cut in one round, then what the workers made of
 * them, then what the store did with them.
 *
 * <p>A batch belongs to one thread at a time and changes hands only through thread-safe queues: the selector
 * thread fills the frames; one worker decodes them into {@link #readings()} and {@link #errors()}; the writer
 * commits the readings; the selector thread reads the outcome and acknowledges. One exception: once decoded, a
 * batch is also handed to the selector, which reads what decoding recorded ({@link #decodedCost(int)}, the frames)
 * and writes {@link #settled} while the writer commits the readings; neither touches what the other does. Batches are numbered so that the
 * writer can commit them in the order the selector cut them, which keeps each connection's values in order.
 *
 * <p>Each frame is one top-level value of one connection: its bytes (or, when the selector already rejected it,
 * no bytes), the connection it came from (an opaque token here), its number on that connection and what that
 * connection's identity may write.
 */
public final class FrameBatch {

    /** A value, or one element of a batch value, that was rejected. {@code element} is 0 for the whole value. */
    public record FrameError(int frame, int element, RejectReason reason, String message) {
    }

    /** A frame that was {@code {"acks": ...}}. */
    public record AcksRequest(int frame, boolean acks) {
    }

    /** A frame that was {@code {"auth": TOKEN}} (the selector decides what it is worth). */
    public record AuthRequest(int frame, String token) {
    }

    /**
     * {@code count} elements of a frame rejected for {@code reason} without an error line each: past the first
     * {@link fr.mesures.protocole.ReadingDecoder#MAX_REPORTED_PER_VALUE} of one value. Counted, and told to the client
     * as left out.
     */
    public record Unreported(int frame, RejectReason reason, int count) {
    }

    private final long seq;
    private byte[] data;
    private int dataLength;
    private int frames;
    private int[] offsets;
    private int[] lengths;
    private Object[] owners;
    private Credential[] permits;
    private long[] valueIndexes;
    private final List<FrameError> framingErrors = new ArrayList<>(0);
    private final List<FrameError> errors = new ArrayList<>(0);
    private final List<AcksRequest> acksRequests = new ArrayList<>(0);
    private final List<AuthRequest> authRequests = new ArrayList<>(0);
    private final List<Unreported> unreported = new ArrayList<>(0);
    private final long receivedAt;
    private final long startedNanos = System.nanoTime();
    private ReadingBlock readings = EMPTY;
    // What each frame holds once decoded (the worker's), and whether the selector has given back the difference
    // from what it charged (the selector's): see ServeurTCP.
    private int[] decodedCosts;
    private boolean settled;

    private static final ReadingBlock EMPTY = new ReadingBlock(0);

    public FrameBatch(long seq, long receivedAt, int expectedBytes) {
        this.seq = seq;
        this.receivedAt = receivedAt;
        this.data = new byte[Math.max(64, expectedBytes)];
        this.offsets = new int[16];
        this.lengths = new int[16];
        this.owners = new Object[16];
        this.permits = new Credential[16];
        this.valueIndexes = new long[16];
    }

    // ---- filled by the selector thread

    /**
     * Adds a complete value; the bytes are copied.
     *
     * @param permit what the value may write, as the connection stood when it was cut: null for anything
     */
    public void addValue(Object owner, Credential permit, long valueIndex, byte[] source, int offset, int length) {
        int at = dataLength;
        if (at + length > data.length) {
            data = Arrays.copyOf(data, Math.max(at + length, data.length * 2));
        }
        System.arraycopy(source, offset, data, at, length);
        dataLength += length;
        addFrame(owner, permit, valueIndex, at, length);
    }

    /** Adds a value the selector already rejected (garbage, too large, truncated). */
    public void addRejected(Object owner, Credential permit, long valueIndex, RejectReason reason, String message) {
        framingErrors.add(new FrameError(frames, 0, reason, message));
        addFrame(owner, permit, valueIndex, 0, -1);
    }

    private void addFrame(Object owner, Credential permit, long valueIndex, int offset, int length) {
        if (frames == offsets.length) {
            int grown = frames * 2;
            offsets = Arrays.copyOf(offsets, grown);
            lengths = Arrays.copyOf(lengths, grown);
            owners = Arrays.copyOf(owners, grown);
            permits = Arrays.copyOf(permits, grown);
            valueIndexes = Arrays.copyOf(valueIndexes, grown);
        }
        offsets[frames] = offset;
        lengths[frames] = length;
        owners[frames] = owner;
        permits[frames] = permit;
        valueIndexes[frames] = valueIndex;
        frames++;
    }

    // ---- filled by the worker

    /**
     * Makes the block the decoded readings go into, exactly as large as the frames can fill: memory is allocated
     * once, to a size known from the frames alone.
     */
    public ReadingBlock startDecoding() {
        int capacity = 0;
        for (int frame = 0; frame < frames; frame++) {
            if (lengths[frame] >= 0) {
                capacity += Reading.maxReadingsIn(data[offsets[frame]], lengths[frame]);
            }
        }
        readings = new ReadingBlock(capacity);
        readings.receivedAt(receivedAt);
        decodedCosts = new int[frames];
        return readings;
    }

    /** What {@code frame} holds once decoded, in bytes ({@code Footprint.decoded}). */
    public void decodedCost(int frame, long bytes) {
        decodedCosts[frame] = (int) Math.min(Integer.MAX_VALUE, bytes);
    }

    /** What {@code frame} holds once decoded, or -1 when decoding did not say (the batch failed, or is not decoded). */
    public int decodedCost(int frame) {
        return decodedCosts == null ? -1 : decodedCosts[frame];
    }

    /** The selector has charged what the frames hold once decoded instead of their worst case. */
    public boolean settled() {
        return settled;
    }

    public void settled(boolean done) {
        settled = done;
    }

    /**
     * Drops what decoding made of this batch and rejects each of its values instead (an acks request among them
     * too): for a batch whose decoding failed part way, so that nothing of it is stored and every value still
     * gets an answer.
     */
    public void rejectAll(RejectReason reason, String message) {
        readings.clear();
        acksRequests.clear();
        authRequests.clear();
        errors.clear();
        unreported.clear();
        // What the failure left behind is unknown: the frames stay charged at their worst case.
        decodedCosts = null;
        for (int frame = 0; frame < frames; frame++) {
            errors.add(new FrameError(frame, 0, reason, message));
        }
    }

    // ---- read by everyone, in turn

    public long seq() {
        return seq;
    }

    public int frames() {
        return frames;
    }

    public byte[] data() {
        return data;
    }

    public int dataLength() {
        return dataLength;
    }

    public int offset(int frame) {
        return offsets[frame];
    }

    /** The frame's length, or -1 when the selector rejected it. */
    public int length(int frame) {
        return lengths[frame];
    }

    public Object owner(int frame) {
        return owners[frame];
    }

    /** What the frame may write ({@link Credential#allows}); null for anything. */
    public Credential permit(int frame) {
        return permits[frame];
    }

    public long valueIndex(int frame) {
        return valueIndexes[frame];
    }

    public List<FrameError> framingErrors() {
        return framingErrors;
    }

    /** Every rejection, in frame order (filled by the worker, which merges in the framing errors). */
    public List<FrameError> errors() {
        return errors;
    }

    public List<AcksRequest> acksRequests() {
        return acksRequests;
    }

    public List<AuthRequest> authRequests() {
        return authRequests;
    }

    public List<Unreported> unreported() {
        return unreported;
    }

    /** When the selector cut these values, in epoch milliseconds. */
    public long receivedAt() {
        return receivedAt;
    }

    /**
     * When the selector cut the first of these values ({@link System#nanoTime()}): a batch holds what one round of
     * the selector read, so this is when each of them was read, within that round.
     */
    public long startedNanos() {
        return startedNanos;
    }

    /** Bytes allocated for the values (at least {@link #dataLength()}). */
    public int dataCapacity() {
        return data.length;
    }

    /** Frames the index arrays can hold (at least {@link #frames()}). */
    public int frameCapacity() {
        return offsets.length;
    }

    /** The decoded readings: empty until a worker {@link #startDecoding() decodes} the batch. */
    public ReadingBlock readings() {
        return readings;
    }
}
