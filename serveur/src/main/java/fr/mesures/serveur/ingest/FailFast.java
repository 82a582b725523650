package fr.mesures.serveur.ingest;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens when a thread of the pipeline dies: the server cannot work without it (a dead worker leaves a gap
 * the writer waits on forever, a dead writer stores nothing, a dead selector reads nothing), so it says so at once
 * ({@link #failure()} turns {@code /health} to 503), logs why, and lets the program stop the process with a
 * non-zero exit code, for a supervisor to restart it. Only the first failure counts; the others are logged.
 *
 * <p>Thread-safe: any thread reports, the HTTP threads read, the main thread waits.
 */
public final class FailFast {

    private static final Logger log = LoggerFactory.getLogger(FailFast.class);

    private final CountDownLatch failed = new CountDownLatch(1);
    private volatile String failure;

    /** The calling thread is dying of {@code error}. */
    public void report(Throwable error) {
        String thread = Thread.currentThread().getName();
        String what = thread + " died: " + error;
        synchronized (this) {
            if (failure != null) {
                log.error("{} (after an earlier failure: {})", what, failure, error);
                return;
            }
            failure = what;
        }
        log.error("{}; the server cannot work without it and stops", what, error);
        failed.countDown();
    }

    /** Why the server cannot work, or null while it can. */
    public String failure() {
        return failure;
    }

    /** Waits until a thread dies or the time is up; true when one died. */
    public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
        return failed.await(timeout, unit);
    }
}
