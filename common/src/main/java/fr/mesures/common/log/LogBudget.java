package fr.mesures.common.log;

import java.time.Duration;
import org.slf4j.Logger;

/**
 * Keeps log lines of one kind readable under a flood: at most a few per window, then one line that counts the
 * rest once the window is over. A client sending a million bad values must not write a million lines on the
 * server, nor a thousand sensors losing their server at once two thousand lines on their side; the first few say
 * what is wrong. Not thread-safe: one thread uses it (the server's selector, a sensors' loop), or its callers lock
 * it.
 */
public final class LogBudget {

    private final Logger log;
    private final String what;
    private final String hint;
    private final int linesPerWindow;
    private final long windowNanos;
    private boolean started;
    private long windowStart;
    private int used;
    private long suppressed;

    /**
     * @param log  where the summary line goes
     * @param what the kind of line, plural, for the summary ("rejected values")
     */
    public LogBudget(Logger log, String what, int linesPerWindow, Duration window) {
        this(log, what, "", linesPerWindow, window);
    }

    /**
     * @param hint said after the summary, where the held lines can be seen
     *             ({@code "CAPTEUR_LOG_LEVEL=DEBUG shows them"}); empty for none
     */
    public LogBudget(Logger log, String what, String hint, int linesPerWindow, Duration window) {
        if (linesPerWindow < 0 || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("a log budget needs a positive window and no negative count");
        }
        this.log = log;
        this.what = what;
        this.hint = hint.isEmpty() ? "" : " (" + hint + ")";
        this.linesPerWindow = linesPerWindow;
        this.windowNanos = window.toNanos();
    }

    /** True when one more line may be written now; otherwise the line is counted for the summary. */
    public boolean allow(long nowNanos) {
        roll(nowNanos);
        if (used < linesPerWindow) {
            used++;
            return true;
        }
        suppressed++;
        return false;
    }

    /**
     * Starts a new window when the current one is over, first saying how many lines it held back. Called by
     * {@link #allow}, and on a timer by whoever owns the budget, so that the summary comes on time even when no
     * new line does.
     */
    public void roll(long nowNanos) {
        if (started && nowNanos - windowStart < windowNanos) {
            return;
        }
        report(nowNanos);
        started = true;
        windowStart = nowNanos;
        used = 0;
    }

    /** Says now how many lines were held back so far, if any (when the owner stops: none goes unmentioned). */
    public void report(long nowNanos) {
        if (suppressed > 0) {
            log.warn("{} more {} in the last {} s, not logged one by one{}", suppressed, what,
                    Math.max(1, (nowNanos - windowStart) / 1_000_000_000L), hint);
            suppressed = 0;
        }
    }
}
