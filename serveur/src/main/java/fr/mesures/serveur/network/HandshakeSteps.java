package fr.mesures.serveur.network;

import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Runs the expensive steps of TLS handshakes (the engine's delegated tasks: key agreement and signature, then with
 * client certificates their check) on a few {@code serveur-tls} threads, in the order that lets handshakes finish
 * in a storm. The steps of handshakes under way go before the first step of any new one, first steps in the order
 * they came, so that thousands of new handshakes do not make every one begun wait behind them; and a step whose
 * connection is gone (the client left, or its handshake deadline passed, a timeout the selector's sweep counts) is
 * dropped unrun, so that the work of a storm goes to handshakes that can still finish.
 *
 * <p>Steps are submitted by the selector thread only, which numbers them; the pool's threads run them.
 */
final class HandshakeSteps {

    private final ThreadPoolExecutor pool;
    private long submitted;

    HandshakeSteps(int threads) {
        AtomicInteger n = new AtomicInteger();
        pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new PriorityBlockingQueue<>(),
                task -> {
                    Thread t = new Thread(task, "serveur-tls-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * Queues one step of a handshake.
     *
     * @param later    true when this handshake has had a step already
     * @param obsolete true once the step is not worth running (its connection closed, or past its deadline): it is
     *                 then dropped
     * @param step     the step, which hands the connection back to the selector thread when it is done
     */
    void submit(boolean later, BooleanSupplier obsolete, Runnable step) {
        pool.execute(new Step(later, submitted++, obsolete, step));
    }

    void shutdownNow() {
        pool.shutdownNow();
    }

    private record Step(boolean later, long order, BooleanSupplier obsolete, Runnable step)
            implements Runnable, Comparable<Step> {

        @Override
        public void run() {
            if (!obsolete.getAsBoolean()) {
                step.run();
            }
        }

        @Override
        public int compareTo(Step other) {
            if (later != other.later) {
                return later ? -1 : 1;
            }
            return Long.compare(order, other.order);
        }
    }
}
