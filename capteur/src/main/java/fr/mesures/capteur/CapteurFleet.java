package fr.mesures.capteur;

import fr.mesures.capteur.auth.Refusal;
import fr.mesures.capteur.network.EventLoop;
import fr.mesures.capteur.source.TemperatureSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * Runs K sensors in one process: the exercise's threaded client, with one I/O thread for all of them instead of
 * a thread per sensor. Each sensor has its own connection and its own schedule; the first readings are spread
 * evenly over one interval so that a thousand sensors started together do not all measure in the same
 * millisecond.
 *
 * <p>Lifecycle: {@link #start} creates the loop and the sensors and starts them; {@link #awaitFinished} waits for
 * all sensors to end on their own (their sources ended and everything was acknowledged); {@link #stop} asks them
 * to stop measuring, waits a little for the last acknowledgements and gives up on the rest; {@link #close} gives
 * up at once and ends the loop thread.
 *
 * <p>A refusal of who a sensor is ({@link Refusal}: a token unknown or revoked, authentication required, a client
 * certificate refused) stops the whole fleet: its sensors share one token and one certificate, so the others
 * would be refused the same way, each reconnecting on its own, and a thousand sensors would make a thousand
 * refused connections for one mistake. The first refusal is kept in the {@link Outcome}.
 *
 * <p>Shared with the loop thread, which writes them while other threads read them: the counters updated at every
 * acknowledgement, rejection, drop or connection failure ({@link LongAdder}s, cheap to add to often);
 * {@code produced} and {@code abandoned}, added to once per sensor when it finishes ({@link AtomicLong}s); and the
 * {@link CountDownLatch} of sensors not finished, which {@link #awaitFinished} waits on. The list of sensors is
 * never changed after construction; the sensors' own state is the loop thread's alone.
 */
public final class CapteurFleet implements AutoCloseable {

    /**
     * What a run achieved.
     *
     * @param sensors      how many sensors ran
     * @param finished     how many ended (delivered all they held, or gave up)
     * @param produced     readings made
     * @param acknowledged readings the server acknowledged (stored)
     * @param rejected     readings the server refused (logged, not resent)
     * @param dropped      readings dropped because a sensor's buffer was full
     * @param abandoned    readings still unacknowledged when the sensors gave up
     * @param refusal      the server's refusal of the sensors' identity that stopped the fleet, or null
     */
    public record Outcome(int sensors, int finished, long produced, long acknowledged, long rejected, long dropped,
                          long abandoned, Refusal refusal) {

        /** True when every sensor ended and every reading it made was acknowledged. */
        public boolean allDelivered() {
            return finished == sensors && rejected == 0 && dropped == 0 && abandoned == 0
                    && acknowledged == produced && refusal == null;
        }

        /** 0 when everything was delivered, 1 otherwise. */
        public int exitCode() {
            return allDelivered() ? 0 : 1;
        }
    }

    private final EventLoop loop;
    private final List<CapteurTCP> capteurs;
    private final CountDownLatch finished;
    private final LongAdder acknowledged = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder connectionFailures = new LongAdder();
    private final AtomicLong produced = new AtomicLong();
    private final AtomicLong abandoned = new AtomicLong();
    private final AtomicReference<Refusal> refusal = new AtomicReference<>();

    private CapteurFleet(List<String> ids, IntFunction<TemperatureSource> sources, CapteurSettings settings,
                         IntFunction<LongSupplier> clocks) {
        this.loop = new EventLoop("capteur-io");
        this.finished = new CountDownLatch(ids.size());
        this.capteurs = new ArrayList<>(ids.size());
        CapteurTCP.Listener listener = new Listener();
        long interval = settings.interval().toMillis();
        for (int i = 0; i < ids.size(); i++) {
            long phase = interval * i / ids.size();
            capteurs.add(new CapteurTCP(ids.get(i), sources.apply(i), clocks.apply(i), settings, loop, listener,
                    phase));
        }
    }

    /**
     * Creates and starts one sensor per identifier.
     *
     * @param sources the source of sensor {@code i} (0-based, in the order of {@code ids})
     * @param clock   wall-clock epoch milliseconds for the readings' timestamps
     */
    public static CapteurFleet start(List<String> ids, IntFunction<TemperatureSource> sources,
                                     CapteurSettings settings, LongSupplier clock) {
        return startWithClocks(ids, sources, settings, i -> clock);
    }

    /**
     * As {@link #start(List, IntFunction, CapteurSettings, LongSupplier)}, with a clock per sensor (tests use
     * clocks that make every timestamp known in advance). A clock is called on the loop thread only.
     */
    public static CapteurFleet startWithClocks(List<String> ids, IntFunction<TemperatureSource> sources,
                                               CapteurSettings settings, IntFunction<LongSupplier> clocks) {
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("at least one sensor");
        }
        CapteurFleet fleet = new CapteurFleet(ids, sources, settings, clocks);
        fleet.loop.start();
        fleet.capteurs.forEach(CapteurTCP::start);
        return fleet;
    }

    /** The identifiers {@code ID_1 .. ID_K} for K sensors, or just {@code ID} for one. */
    public static List<String> ids(String id, int count) {
        if (count == 1) {
            return List.of(id);
        }
        List<String> ids = new ArrayList<>(count);
        for (int i = 1; i <= count; i++) {
            ids.add(id + "_" + i);
        }
        return ids;
    }

    /** Waits until every sensor has ended by itself; true if they did within {@code timeout}. */
    public boolean awaitFinished(Duration timeout) throws InterruptedException {
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits without limit until every sensor has ended by itself. */
    public void awaitFinished() throws InterruptedException {
        finished.await();
    }

    /**
     * Graceful stop: no more readings are made; waits up to {@code grace} for what is held to be acknowledged,
     * then gives up on the rest.
     */
    public Outcome stop(Duration grace) throws InterruptedException {
        capteurs.forEach(CapteurTCP::stop);
        if (!awaitFinished(grace)) {
            capteurs.forEach(CapteurTCP::abort);
            finished.await(5, TimeUnit.SECONDS);
        }
        return outcome();
    }

    /** The figures so far (exact once every sensor has finished). */
    public Outcome outcome() {
        return new Outcome(capteurs.size(), capteurs.size() - (int) finished.getCount(), produced.get(),
                acknowledged.sum(), rejected.sum(), dropped.sum(), abandoned.get(), refusal.get());
    }

    /** Readings the server has acknowledged so far, for progress reports. Any thread. */
    public long acknowledged() {
        return acknowledged.sum();
    }

    /** Failed connection attempts and lost connections so far, all sensors together. Any thread. */
    public long connectionFailures() {
        return connectionFailures.sum();
    }

    /** Gives up on whatever is not delivered and ends the loop thread. */
    @Override
    public void close() {
        if (finished.getCount() > 0) {
            capteurs.forEach(CapteurTCP::abort);
            try {
                finished.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        loop.close();
    }

    /** Called on the loop thread by every sensor. */
    private final class Listener implements CapteurTCP.Listener {
        @Override
        public void acknowledged(int readings) {
            acknowledged.add(readings);
        }

        @Override
        public void rejected() {
            rejected.increment();
        }

        @Override
        public void dropped() {
            dropped.increment();
        }

        @Override
        public void connectionFailed() {
            connectionFailures.increment();
        }

        @Override
        public void refused(CapteurTCP capteur, Refusal why) {
            if (refusal.compareAndSet(null, why)) {
                for (CapteurTCP other : capteurs) {
                    if (other != capteur) {
                        other.abortRefused();
                    }
                }
            }
        }

        @Override
        public void finished(CapteurTCP capteur) {
            produced.addAndGet(capteur.produced());
            abandoned.addAndGet(capteur.abandonedCount());
            finished.countDown();
        }
    }
}
