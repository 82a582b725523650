package fr.mesures.serveur.memory;

import fr.mesures.protocole.CapteurIds;
import fr.mesures.protocole.Reading;
import fr.mesures.protocole.ReadingDecoder;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.SafeText;

/**
 * What each thing the server holds for a client costs in heap, at worst: the arithmetic of the memory model
 * (docs/architecture.md, "Memory"). Every figure is an upper bound for a 64-bit HotSpot JVM with compressed
 * references (12-byte object headers, 16-byte array headers, 8-byte alignment); {@code FootprintTest} measures
 * the real objects with JOL and checks that none costs more than its figure here.
 *
 * <p>A value in flight is charged when the selector cuts it, before anything is decoded, so its charge must cover
 * whatever decoding can make of it: one reading or one rejection for an object, up to a reading per 35 bytes and
 * {@link ReadingDecoder#MAX_REPORTED_PER_VALUE} rejections with their messages for an array.
 */
public final class Footprint {

    /** Heap of one idle connection: socket channel, selection key and our objects (850 B measured, 2026-12-03). */
    public static final int CONNECTION = 1024;
    /**
     * What an established TLS connection costs beyond a plaintext one and beyond the buffers its channel's allocator
     * counts: its engine, session and channel objects. Measured 11 KB a connection on JDK 17 (heap after GC with 1,000
     * connections and without them, 2026-12-03), 4 KiB of which were buffers counted already.
     */
    public static final int TLS_SESSION = 8 * 1024;
    /**
     * The same while the handshake is under way (its messages, key shares, the certificate chain being sent):
     * measured 18.7 KB a connection, all included, with 2,000 clients stalled after their ClientHello (live heap
     * 10.7 MB, then 48.1 MB, 2026-12-03).
     */
    public static final int TLS_HANDSHAKE = 17 * 1024;
    /**
     * What a connection may hold (its partial value, its pending reply lines, its unwritten output) without
     * drawing on the shared pool: enough for a reading or two and an error line, which is all a well-behaved
     * client ever holds, so that a pool emptied by others never stops it.
     */
    public static final int RESERVE = 1024;
    /** A partial value grows in steps of this, so that a value arriving a byte at a time is not copied each time. */
    public static final int CARRY_STEP = 1024;

    /**
     * One frame's slots in a batch's index: offset, length, owner and permit (compressed references), value number, and its
     * cost once decoded.
     */
    static final int FRAME_INDEX = 4 + 4 + 4 + 4 + 8 + 4;
    /** One row of a {@link fr.mesures.serveur.storage.ReadingBlock}: its seven columns. */
    static final int READING_ROW = 4 + 8 + 8 + 4 + 4 + 1 + 8;
    /** A {@code capteur_id} the decoder had not cached: a String and its bytes. */
    static final int NEW_ID = string(CapteurIds.MAX_LENGTH);
    /** A reading, at worst with an identifier of its own. */
    static final int READING = READING_ROW + NEW_ID;
    /** A rejection without its message: its record (32) and its slot in the batch's list, with room to grow (8). */
    static final int REJECTION_RECORD = 32 + 8;
    /** A rejection with its message (Latin-1, bounded by {@link SafeText#MAX_MESSAGE_CHARS}). */
    static final int REJECTION = REJECTION_RECORD + string(SafeText.MAX_MESSAGE_CHARS);
    /** One reason of an array value counted without a message: a record and a slot. */
    static final int ONE_UNREPORTED = 24 + 8;
    /** Every reason of one array value counted without a message. */
    static final int UNREPORTED = RejectReason.values().length * ONE_UNREPORTED;
    /** An acks request: a record and its slot. */
    static final int ACKS_REQUEST = 16 + 8;
    /** An auth request: a record, its slot and its token at the longest the decoder keeps, two bytes a character. */
    static final int AUTH_REQUEST = 16 + 8 + string(2 * ReadingDecoder.MAX_TOKEN_CHARS);
    /** A batch's own objects: the batch, its lists, its reading block's arrays, before any frame. */
    static final int BATCH = 512;

    private Footprint() {
    }

    /**
     * A complete value of {@code length} bytes in flight, at worst: its bytes, its index slots, and whatever
     * decoding can make of it.
     *
     * @param first the value's first byte, {@code '{'} or {@code '['}
     */
    public static long value(byte first, int length) {
        long decoded;
        if (first == '[') {
            // An element takes at least two bytes ("1,"), a reading at least 35.
            int elements = Math.max(0, (length - 1) / 2);
            int reported = Math.min(ReadingDecoder.MAX_REPORTED_PER_VALUE, elements);
            decoded = (long) Reading.maxReadingsIn(first, length) * READING + (long) reported * REJECTION
                    + (elements > reported ? UNREPORTED : 0);
        } else {
            // Its row in the reading block is allocated whatever it turns out to be.
            decoded = READING_ROW + Math.max(NEW_ID, Math.max(REJECTION, ACKS_REQUEST + AUTH_REQUEST));
        }
        return FRAME_INDEX + length + decoded;
    }

    /**
     * What a value of {@code length} bytes really holds once decoded (at most {@link #value}, which was charged for
     * it before): its bytes and index slots, its rows in the reading block, and what decoding made: the
     * identifiers of its readings ({@code idBytes}, each counted as if it were its own String, since one shared
     * with the decoder's cache may leave it), its rejections with their messages ({@code messageBytes}: each
     * message's {@link #string}), reasons counted without a message, an acks request, an auth request.
     */
    public static long decoded(byte first, int length, long idBytes, int rejections, long messageBytes,
            int unreported, boolean acksRequest, boolean authRequest) {
        return FRAME_INDEX + length + (long) Reading.maxReadingsIn(first, length) * READING_ROW + idBytes
                + (long) rejections * REJECTION_RECORD + messageBytes + (long) unreported * ONE_UNREPORTED
                + (acksRequest ? ACKS_REQUEST : 0) + (authRequest ? AUTH_REQUEST : 0);
    }

    /** A value the selector rejected itself (garbage, too large, truncated): an index slot and a rejection. */
    public static long rejectedValue() {
        return FRAME_INDEX + REJECTION;
    }

    /** What a batch costs beyond its frames: its own objects and the room its arrays have not used yet. */
    public static long batchOverhead(int dataCapacity, int dataLength, int frameCapacity, int frames) {
        return BATCH + (long) (dataCapacity - dataLength) + (long) (frameCapacity - frames) * FRAME_INDEX;
    }

    /**
     * The most readings a budget of {@code inFlightBytes} can hold in flight: each at least in an array, the
     * cheapest way to send one.
     */
    public static int maxReadingsIn(long inFlightBytes) {
        return (int) Math.min(Integer.MAX_VALUE, inFlightBytes / (READING + Reading.MIN_JSON_BYTES + 1));
    }

    /** A byte array of {@code length}: what a partial value, a reply line or unwritten output costs. */
    public static long bytes(long length) {
        return align(16L + length);
    }

    /** A reply line waiting to be written: its bytes, and its slot in the queue with the queue's own share. */
    public static long line(int length) {
        return bytes(length) + 16;
    }

    /** A String of {@code chars} Latin-1 characters (one byte each). */
    public static int string(int chars) {
        return 24 + (int) align(16L + chars);
    }

    private static long align(long bytes) {
        return (bytes + 7) & ~7L;
    }
}
