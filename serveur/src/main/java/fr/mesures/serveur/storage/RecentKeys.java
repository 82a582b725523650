package fr.mesures.serveur.storage;

import java.util.Arrays;

/**
 * The keys {@code (capteur_id, timestamp)} of the most recent readings, so that a store without an index can
 * recognise a resent reading. A resend only ever repeats readings that were written but not yet acknowledged,
 * so it is enough to remember as many readings as the server can hold between receiving and acknowledging.
 *
 * <p>Keys are kept as 64-bit hashes in two generations of an open-addressing table: when the current one is full
 * it becomes the previous one and the oldest is dropped. Memory is fixed (32 bytes per key remembered at least).
 * A false "already stored" needs two different keys with the same 64-bit hash: remembering a million keys, about
 * one chance in 10^13 per reading. Not thread-safe: owned by the store's writer.
 */
final class RecentKeys {

    private final int generationCapacity;
    private long[] current;
    private long[] previous;
    private int currentSize;

    /** Remembers at least the last {@code atLeast} keys (and at most twice as many). */
    RecentKeys(int atLeast) {
        this.generationCapacity = Math.max(16, atLeast);
        // Half full at most, so that a probe for a key not there stops after a step or two.
        int tableSize = Integer.highestOneBit(generationCapacity * 2 - 1) << 1;
        this.current = new long[tableSize];
        this.previous = new long[tableSize];
    }

    /** Adds the key; false when it was already there. */
    boolean add(String capteurId, long timestamp) {
        long hash = hash(capteurId, timestamp);
        if (contains(previous, hash)) {
            return false;
        }
        int mask = current.length - 1;
        int slot = (int) hash & mask;
        while (current[slot] != 0) {
            if (current[slot] == hash) {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        current[slot] = hash;
        if (++currentSize == generationCapacity) {
            long[] oldest = previous;
            previous = current;
            Arrays.fill(oldest, 0);
            current = oldest;
            currentSize = 0;
        }
        return true;
    }

    void clear() {
        Arrays.fill(current, 0);
        Arrays.fill(previous, 0);
        currentSize = 0;
    }

    private static boolean contains(long[] table, long hash) {
        int mask = table.length - 1;
        int slot = (int) hash & mask;
        while (table[slot] != 0) {
            if (table[slot] == hash) {
                return true;
            }
            slot = (slot + 1) & mask;
        }
        return false;
    }

    /** FNV-1a over the identifier, mixed with the timestamp by a 64-bit finaliser; never 0 (0 marks a free slot). */
    static long hash(String capteurId, long timestamp) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < capteurId.length(); i++) {
            h = (h ^ capteurId.charAt(i)) * 0x100000001b3L;
        }
        h ^= timestamp * 0x9E3779B97F4A7C15L;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h == 0 ? 1 : h;
    }
}
