package fr.mesures.systemtests.fuzz;

/**
 * The framing rules of docs/protocol.md, written from the document alone, as the fuzz test's oracle: which bytes
 * make a value, where a broken value ends, how many values a stream holds.
 *
 * <ul>
 *   <li>Between values, JSON whitespace is skipped; {@code {} or {@code [} starts a value; anything else starts a
 *       run of garbage, skipped up to and including the next newline, which counts as one value.</li>
 *   <li>A value ends when its brackets balance; brackets inside strings do not count; a backslash escapes the next
 *       character of a string.</li>
 *   <li>A raw newline inside a string ends the (broken) value there, even right after a backslash.</li>
 * </ul>
 *
 * <p>The size limit does not move the boundaries (a value that is too large is skipped "up to its end"), and the
 * end of the stream ends the last value, so neither appears here.
 */
public final class FramingModel {

    enum State { BETWEEN, GARBAGE, VALUE, STRING, ESCAPE }

    private State state = State.BETWEEN;
    private long depth;
    private long values;

    public void feed(byte[] bytes) {
        for (byte b : bytes) {
            feed(b);
        }
    }

    public void feed(byte b) {
        switch (state) {
            case BETWEEN -> {
                if (b == '{' || b == '[') {
                    state = State.VALUE;
                    depth = 1;
                    values++;
                } else if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                    state = State.GARBAGE;
                    values++;
                }
            }
            case GARBAGE -> {
                if (b == '\n') {
                    state = State.BETWEEN;
                }
            }
            case VALUE -> {
                if (b == '"') {
                    state = State.STRING;
                } else if (b == '{' || b == '[') {
                    depth++;
                } else if ((b == '}' || b == ']') && --depth == 0) {
                    state = State.BETWEEN;
                }
            }
            case STRING -> {
                if (b == '"') {
                    state = State.VALUE;
                } else if (b == '\\') {
                    state = State.ESCAPE;
                } else if (b == '\n') {
                    state = State.BETWEEN;
                }
            }
            case ESCAPE -> state = b == '\n' ? State.BETWEEN : State.STRING;
        }
    }

    /** True between values: the next {@code {} or {@code [} starts a value of its own. */
    public boolean between() {
        return state == State.BETWEEN;
    }

    /** Values started so far (readings, batches, broken values, garbage runs). */
    public long values() {
        return values;
    }
}
