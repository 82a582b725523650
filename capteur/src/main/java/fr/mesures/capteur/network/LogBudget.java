package fr.mesures.capteur.network;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps the lines of one kind that many sensors on one loop write: when a server restarts, a thousand sensors each
 * lose and regain their connection, and a thousand times two lines say less than twenty and a count. Lines over
 * the budget of a window are counted and reported in one line once the window is over. Loop thread only.
 */
public final class LogBudget {

    private static final Logger log = LoggerFactory.getLogger(LogBudget.class);

    private final String what;
    private final int linesPerWindow;
    private final long windowMillis;
    private long windowStart = Long.MIN_VALUE;
    private int used;
    private int suppressed;

    /**
     * @param what the kind of line, plural, for the summary ("connection events of other sensors")
     */
    public LogBudget(String what, int linesPerWindow, long windowMillis) {
        this.what = what;
        this.linesPerWindow = linesPerWindow;
        this.windowMillis = windowMillis;
    }

    /** True when a line may be written now; otherwise it is counted. */
    public boolean allow(long now) {
        flush(now);
        if (used < linesPerWindow) {
            used++;
            return true;
        }
        suppressed++;
        return false;
    }

    /** Ends the window if its time is over, reporting what was held back. Its loop calls it every second. */
    public void flush(long now) {
        if (windowStart != Long.MIN_VALUE && now - windowStart < windowMillis) {
            return;
        }
        report();
        windowStart = now;
        used = 0;
    }

    /** Reports the lines held back so far, if any (also when the loop stops, so none goes unmentioned). */
    public void report() {
        if (suppressed > 0) {
            log.warn("{} more {}, not logged one by one (CAPTEUR_LOG_LEVEL=DEBUG shows them)", suppressed, what);
            suppressed = 0;
        }
    }
}
