package fr.mesures.serveur.storage;

import fr.mesures.protocole.Timestamps;
import java.nio.charset.StandardCharsets;

/**
 * Writes epoch milliseconds as {@code 2025-11-24T12:00:00.123Z} into a byte array, fast: the text up to the minute
 * is computed once a minute, the seconds and milliseconds are digits. Not thread-safe (it caches).
 */
final class UtcMillis {

    static final int LENGTH = 24;

    private long cachedMinute = Long.MIN_VALUE;
    private final byte[] prefix = new byte[17];

    /** Writes the 24 bytes at {@code at}; returns the position after them. */
    int write(long epochMillis, byte[] out, int at) {
        long minute = Math.floorDiv(epochMillis, 60_000L);
        if (minute != cachedMinute) {
            byte[] text = Timestamps.formatIso(minute * 60_000L).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(text, 0, prefix, 0, prefix.length);
            cachedMinute = minute;
        }
        System.arraycopy(prefix, 0, out, at, prefix.length);
        int inMinute = (int) (epochMillis - minute * 60_000L);
        int seconds = inMinute / 1000;
        int millis = inMinute % 1000;
        int p = at + prefix.length;
        out[p++] = (byte) ('0' + seconds / 10);
        out[p++] = (byte) ('0' + seconds % 10);
        out[p++] = '.';
        out[p++] = (byte) ('0' + millis / 100);
        out[p++] = (byte) ('0' + millis / 10 % 10);
        out[p++] = (byte) ('0' + millis % 10);
        out[p++] = 'Z';
        return p;
    }
}
