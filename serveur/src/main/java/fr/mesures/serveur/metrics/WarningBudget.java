package fr.mesures.serveur.metrics;

import org.slf4j.Logger;

/**
 * Keeps warnings about clients readable under a flood: at most a few lines per window, then one line that counts
 * the rest. A client sending a million bad values must not write a million log lines, and the first few say what
 * is wrong. Not thread-safe: the selector's thread uses its own; callers on several threads lock it.
 */
public final class WarningBudget {

    private final Logger log;
    private final String what;
    private final int linesPerWindow;
    private final long windowNanos;
    private long windowStart;
    private int used;
    private long suppressed;

    /**
     * @param what the kind of event, plural, for the summary line ("rejected values")
     */
    public WarningBudget(Logger log, String what, int linesPerWindow, long windowNanos) {
        this.log = log;
        this.what = what;
        this.linesPerWindow = linesPerWindow;
        this.windowNanos = windowNanos;
        this.windowStart = System.nanoTime();
    }

    /** True when one more line may be written now; otherwise the event is counted for the summary. */
    public boolean allow(long nowNanos) {
        roll(nowNanos);
        if (used < linesPerWindow) {
            used++;
            return true;
        }
        suppressed++;
        return false;
    }

    /** Starts a new window when the current one is over, first saying how many lines it held back. */
    public void roll(long nowNanos) {
        if (nowNanos - windowStart < windowNanos) {
            return;
        }
        if (suppressed > 0) {
            log.warn("{} more {} in the last {} s, not logged one by one", suppressed, what,
                    (nowNanos - windowStart) / 1_000_000_000L);
        }
        windowStart = nowNanos;
        used = 0;
        suppressed = 0;
    }
}
