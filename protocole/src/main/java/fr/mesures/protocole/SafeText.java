package fr.mesures.protocole;

/**
 * Text built from what a client sent, made safe to put into a reply line or a log line: bounded in length, and
 * without control characters, which would let a client start a new log line of its own choosing (log forging) or
 * make a reply line longer than any client expects.
 *
 * <p>Echoed fields ({@link #quote}) are cut to {@link #MAX_ECHO_CHARS} and say so; whole messages
 * ({@link #bounded}) are cut to {@link #MAX_MESSAGE_CHARS}. Control characters and every character outside
 * Latin-1 (line and paragraph separators, lone surrogates, emoji...) are written as {@code \}{@code uXXXX}, so a
 * message is stored one byte per character and its memory is known: {@link #MAX_MESSAGE_CHARS} bytes at most.
 */
public final class SafeText {

    /** The most characters of a client's field that a message repeats. */
    public static final int MAX_ECHO_CHARS = 40;
    /** The longest message a reply line or a log line carries. */
    public static final int MAX_MESSAGE_CHARS = 256;

    private SafeText() {
    }

    /**
     * A client's field in double quotes, escaped, and cut after {@link #MAX_ECHO_CHARS} characters with a mark that
     * says how long it was: {@code "abc..." (cut, 60000 characters)}.
     */
    public static String quote(CharSequence field) {
        int length = field.length();
        int kept = Math.min(length, MAX_ECHO_CHARS);
        var out = new StringBuilder(kept + 32).append('"');
        escape(field, kept, out);
        out.append('"');
        if (length > MAX_ECHO_CHARS) {
            out.append("... (cut, ").append(length).append(" characters)");
        }
        return out.toString();
    }

    /** The message with unsafe characters escaped, cut to {@link #MAX_MESSAGE_CHARS} (ending with "..."). */
    public static String bounded(String message) {
        if (message.length() <= MAX_MESSAGE_CHARS && !needsEscape(message)) {
            return message;
        }
        var out = new StringBuilder(MAX_MESSAGE_CHARS + 8);
        escape(message, message.length(), out);
        if (out.length() > MAX_MESSAGE_CHARS) {
            out.setLength(MAX_MESSAGE_CHARS - 3);
            out.append("...");
        }
        return out.toString();
    }

    private static boolean needsEscape(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (unsafe(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    private static void escape(CharSequence text, int count, StringBuilder out) {
        for (int i = 0; i < count; i++) {
            char c = text.charAt(i);
            if (unsafe(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
    }

    private static boolean unsafe(char c) {
        return Character.isISOControl(c) || c > '\u00ff';
    }
}
