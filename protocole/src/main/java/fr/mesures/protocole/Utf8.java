package fr.mesures.protocole;

/**
 * Finds bytes that are not well-formed UTF-8 (RFC 3629): the JSON parser decodes overlong forms ({@code C1 81} as
 * "A"), surrogates and code points past U+10FFFF without a word, so two different byte strings could name the same
 * sensor, and a client could slip past any check made on the bytes. ASCII, nearly all of what sensors send, costs
 * one comparison a byte.
 */
final class Utf8 {

    private Utf8() {
    }

    /** The offset of the first byte in {@code data[from, to)} that starts an ill-formed sequence, or -1. */
    static int firstInvalid(byte[] data, int from, int to) {
        int i = from;
        while (i < to) {
            int b = data[i];
            if (b >= 0) {
                i++;
                continue;
            }
            int length = sequenceLength(data, i, to);
            if (length < 0) {
                return i;
            }
            i += length;
        }
        return -1;
    }

    /** The length of the well-formed sequence starting at {@code i}, or -1 (Unicode's table 3-7). */
    private static int sequenceLength(byte[] data, int i, int to) {
        int lead = data[i] & 0xFF;
        int length;
        int low = 0x80;
        int high = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            low = lead == 0xE0 ? 0xA0 : 0x80;
            high = lead == 0xED ? 0x9F : 0xBF;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            low = lead == 0xF0 ? 0x90 : 0x80;
            high = lead == 0xF4 ? 0x8F : 0xBF;
        } else {
            return -1;
        }
        if (i + length > to) {
            return -1;
        }
        int second = data[i + 1] & 0xFF;
        if (second < low || second > high) {
            return -1;
        }
        for (int k = 2; k < length; k++) {
            int next = data[i + k] & 0xFF;
            if (next < 0x80 || next > 0xBF) {
                return -1;
            }
        }
        return length;
    }
}
