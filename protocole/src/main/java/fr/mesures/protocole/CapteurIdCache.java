package fr.mesures.protocole;

/**
 * Turns the characters of a {@code capteur_id} into a validated, shared {@code String}, allocating only the first
 * time an identifier is seen (or after a collision evicted it).
 *
 * <p>A direct-mapped table: bounded memory whatever identifiers clients invent, and at most one comparison per
 * lookup. Not thread-safe; one per decoder.
 */
final class CapteurIdCache {

    private static final int SLOTS = 4096;

    private final String[] slots = new String[SLOTS];

    /** The identifier in {@code chars[offset, offset + length)}, or {@code null} when it breaks the rule. */
    String canonical(char[] chars, int offset, int length) {
        if (length == 0 || length > CapteurIds.MAX_LENGTH) {
            return null;
        }
        int hash = 0;
        for (int i = offset; i < offset + length; i++) {
            char c = chars[i];
            if (!CapteurIds.isAllowed(c)) {
                return null;
            }
            hash = 31 * hash + c;
        }
        int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
        String cached = slots[slot];
        if (cached != null && sameChars(cached, chars, offset, length)) {
            return cached;
        }
        String id = new String(chars, offset, length);
        slots[slot] = id;
        return id;
    }

    private static boolean sameChars(String s, char[] chars, int offset, int length) {
        if (s.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (s.charAt(i) != chars[offset + i]) {
                return false;
            }
        }
        return true;
    }
}
