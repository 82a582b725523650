package fr.mesures.serveur.ingest;

import fr.mesures.protocole.ReadingDecoder;
import fr.mesures.protocole.ReadingRules;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.SafeText;
import fr.mesures.serveur.auth.Credential;
import fr.mesures.serveur.memory.Footprint;
import fr.mesures.serveur.metrics.IngestMetrics;
import fr.mesures.serveur.storage.ReadingBlock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker pool: threads that turn a batch's frames into validated readings and rejections, then pass the
 * batch to the writer.
 *
 * <p>Each worker owns a {@link ReadingDecoder} (scratch space, identifier cache); a batch is decoded by one
 * worker. The queue needs no bound of its own: the selector stops reading when its budget of bytes and batches
 * in flight is spent, which bounds everything downstream.
 */
public final class DecodeWorkers implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DecodeWorkers.class);
    private static final FrameBatch STOP = new FrameBatch(-1, 0, 0);

    private final BlockingQueue<FrameBatch> queue = new LinkedBlockingQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private final ReadingRules rules;
    private final IngestMetrics metrics;
    private final Consumer<FrameBatch> next;
    private final FailFast failFast;
    private final InjectedFault fault;

    /**
     * @param failFast told when a worker dies of something other than a bad value
     * @param fault    a test seam, {@link InjectedFault#NONE} in production
     */
    public DecodeWorkers(int count, ReadingRules rules, IngestMetrics metrics, Consumer<FrameBatch> next,
            FailFast failFast, InjectedFault fault) {
        this.rules = rules;
        this.metrics = metrics;
        this.next = next;
        this.failFast = failFast;
        this.fault = fault;
        for (int i = 1; i <= count; i++) {
            threads.add(new Thread(this::run, "serveur-worker-" + i));
        }
    }

    public void start() {
        threads.forEach(Thread::start);
    }

    /** Queues a batch for decoding; never blocks (see the class comment for why it is bounded anyway). */
    public void submit(FrameBatch batch) {
        queue.add(batch);
    }

    /** Stops the workers once the batches already queued are decoded. */
    @Override
    public void close() {
        threads.forEach(t -> queue.add(STOP));
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void run() {
        try {
            work();
        } catch (Throwable e) {
            // An Error (out of memory, a failed class load...): the batch in hand is lost and the writer would wait
            // for it forever. The server cannot go on; FailFast stops it.
            failFast.report(e);
        }
    }

    private void work() {
        var decoder = new ReadingDecoder(rules);
        while (true) {
            FrameBatch batch;
            try {
                batch = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (batch == STOP) {
                return;
            }
            try {
                decode(decoder, batch);
                count(batch);
            } catch (RuntimeException e) {
                // Never expected: the decoder reports bad input as rejections. Should it happen anyway, the batch
                // must still go on (the writer commits in sequence) and its acks must still mean "stored, or
                // rejected with an error line": every value of it is rejected, none stored.
                log.error("decoding batch {} failed; rejecting its {} values", batch.seq(), batch.frames(), e);
                batch.rejectAll(RejectReason.INTERNAL, "the server failed to decode this value (an internal error);"
                        + " send it again");
                count(batch);
            }
            fault.at("worker", batch.readings());
            next.accept(batch);
        }
    }

    /**
     * Decodes every frame of the batch into its readings and rejections, and records what each frame holds once
     * decoded, so that the selector can charge that instead of the worst case it charged when it cut the frame.
     */
    static void decode(ReadingDecoder decoder, FrameBatch batch) {
        var sink = new FrameSink(batch, batch.startDecoding());
        List<FrameBatch.FrameError> framing = batch.framingErrors();
        List<FrameBatch.FrameError> errors = batch.errors();
        int nextFraming = 0;
        // The values' bytes lie end to end in the batch (a rejected frame has none): one parser for them all.
        try (ReadingDecoder.Sequence values = decoder.sequence(batch.data(), 0, batch.dataLength())) {
            for (int frame = 0; frame < batch.frames(); frame++) {
                int length = batch.length(frame);
                if (length < 0) {
                    errors.add(framing.get(nextFraming++));
                    batch.decodedCost(frame, Footprint.rejectedValue());
                    continue;
                }
                int errorsBefore = errors.size();
                int unreportedBefore = batch.unreported().size();
                int acksBefore = batch.acksRequests().size();
                int authBefore = batch.authRequests().size();
                sink.startFrame(frame);
                values.next(length, sink);
                long messageBytes = 0;
                for (int e = errorsBefore; e < errors.size(); e++) {
                    messageBytes += Footprint.string(errors.get(e).message().length());
                }
                batch.decodedCost(frame, Footprint.decoded(batch.data()[batch.offset(frame)], length,
                        sink.idBytes, errors.size() - errorsBefore, messageBytes,
                        batch.unreported().size() - unreportedBefore, batch.acksRequests().size() > acksBefore,
                        batch.authRequests().size() > authBefore));
            }
        }
    }

    /** Counts the batch's outcome once it is final, so that a batch rejected after a failure is counted once. */
    private void count(FrameBatch batch) {
        metrics.received(batch.readings().size());
        for (FrameBatch.FrameError error : batch.errors()) {
            metrics.rejected(error.reason(), 1);
        }
        for (FrameBatch.Unreported more : batch.unreported()) {
            metrics.rejected(more.reason(), more.count());
        }
    }

    /**
     * Collects one batch's outcome; {@code frame} says which frame is being decoded. A reading its frame's permit
     * does not allow is rejected here ({@code forbidden}), so it never reaches the store; one from a connection
     * that has not authenticated where that is required is dropped without a word, since the connection is
     * refused as a whole.
     */
    private static final class FrameSink implements ReadingDecoder.Sink {
        private final FrameBatch batch;
        private final ReadingBlock readings;
        int frame;
        long idBytes;
        private Credential permit;

        FrameSink(FrameBatch batch, ReadingBlock readings) {
            this.batch = batch;
            this.readings = readings;
        }

        void startFrame(int frame) {
            this.frame = frame;
            this.permit = batch.permit(frame);
            idBytes = 0;
        }

        @Override
        public void reading(String capteurId, double temperature, long timestamp) {
            reading(0, capteurId, temperature, timestamp);
        }

        @Override
        public void reading(int element, String capteurId, double temperature, long timestamp) {
            if (permit != null && !permit.allows(capteurId)) {
                if (permit != Credential.NOBODY) {
                    batch.errors().add(new FrameBatch.FrameError(frame, element, RejectReason.FORBIDDEN,
                            "forbidden: capteur_id " + SafeText.quote(capteurId) + " is not allowed for credential "
                                    + SafeText.quote(permit.name()) + " (it may write " + permit.pattern() + ")"));
                }
                return;
            }
            readings.add(capteurId, temperature, timestamp, frame, element);
            idBytes += Footprint.string(capteurId.length());
        }

        @Override
        public void unreported(RejectReason reason, int count) {
            batch.unreported().add(new FrameBatch.Unreported(frame, reason, count));
        }

        @Override
        public void rejected(int element, RejectReason reason, String message) {
            batch.errors().add(new FrameBatch.FrameError(frame, element, reason, message));
        }

        @Override
        public void authRequested(String token) {
            batch.authRequests().add(new FrameBatch.AuthRequest(frame, token));
        }

        @Override
        public void acksRequested(boolean acks) {
            batch.acksRequests().add(new FrameBatch.AcksRequest(frame, acks));
        }
    }
}
