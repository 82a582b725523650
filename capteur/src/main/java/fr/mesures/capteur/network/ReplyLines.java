package fr.mesures.capteur.network;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Cuts the bytes a server sends into lines (one reply per line). Keeps only the unfinished end of the last line,
 * and refuses a line longer than {@link #MAX_LINE_BYTES}: a peer that sends that is not our server. Not
 * thread-safe: owned by one connection.
 */
public final class ReplyLines {

    /** Replies are short; an error message is a few hundred bytes at most. */
    public static final int MAX_LINE_BYTES = 16 * 1024;

    private byte[] partial = new byte[0];
    private int partialLength;

    /**
     * Feeds the bytes between {@code bytes.position()} and its limit; each complete line (without its newline)
     * goes to {@code lines}.
     *
     * @throws IOException when a line is longer than {@link #MAX_LINE_BYTES}
     */
    public void feed(ByteBuffer bytes, Consumer<String> lines) throws IOException {
        byte[] array = bytes.array();
        int start = bytes.arrayOffset() + bytes.position();
        int end = bytes.arrayOffset() + bytes.limit();
        for (int i = start; i < end; i++) {
            if (array[i] == '\n') {
                lines.accept(complete(array, start, i));
                start = i + 1;
            }
        }
        keep(array, start, end - start);
        bytes.position(bytes.limit());
    }

    private String complete(byte[] array, int start, int end) throws IOException {
        String line;
        if (partialLength == 0) {
            line = new String(array, start, end - start, StandardCharsets.UTF_8);
        } else {
            keep(array, start, end - start);
            line = new String(partial, 0, partialLength, StandardCharsets.UTF_8);
            partialLength = 0;
        }
        return line;
    }

    private void keep(byte[] array, int start, int length) throws IOException {
        if (length == 0) {
            return;
        }
        if (partialLength + length > MAX_LINE_BYTES) {
            throw new IOException("the server sent a line longer than " + MAX_LINE_BYTES + " bytes");
        }
        if (partial.length < partialLength + length) {
            partial = Arrays.copyOf(partial, Math.max(partialLength + length, Math.max(64, partial.length * 2)));
        }
        System.arraycopy(array, start, partial, partialLength, length);
        partialLength += length;
    }
}
