package fr.mesures.serveur.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import fr.mesures.protocole.ReadingRules;
import fr.mesures.protocole.RejectReason;
import fr.mesures.serveur.metrics.IngestMetrics;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DecodeWorkersTest {

    private static final Object CONNECTION = new Object();

    @Test
    void aBatchIsDecodedIntoReadingsAndRejectionsInFrameOrder() throws Exception {
        var metrics = new CountingMetrics();
        FrameBatch batch = decoded(metrics);

        assertThat(batch.readings().size()).isEqualTo(2);
        assertThat(batch.readings().capteurId(1)).isEqualTo("b");
        assertThat(batch.errors()).extracting(FrameBatch.FrameError::frame, FrameBatch.FrameError::reason)
                .containsExactly(tuple(1, RejectReason.GARBAGE), tuple(2, RejectReason.OUT_OF_RANGE));
        assertThat(metrics.rejected).containsOnly(Map.entry(RejectReason.GARBAGE, 1),
                Map.entry(RejectReason.OUT_OF_RANGE, 1));
    }

    /** Whatever fails inside a worker, every value still gets an answer and none is half stored. */
    @Test
    void aBatchWhoseDecodingFailsIsRejectedWholeAndStillHandedOn() throws Exception {
        var failing = new CountingMetrics() {
            boolean failed;

            @Override
            public void received(int count) {
                if (!failed) {
                    failed = true;
                    throw new IllegalStateException("a bug after the readings were decoded");
                }
            }
        };

        FrameBatch batch = decoded(failing);

        assertThat(batch.readings().size()).isZero();
        assertThat(batch.errors()).extracting(FrameBatch.FrameError::frame).containsExactly(0, 1, 2, 3);
        assertThat(batch.errors()).allSatisfy(error -> {
            assertThat(error.reason()).isEqualTo(RejectReason.INTERNAL);
            assertThat(error.message()).contains("internal error");
        });
        assertThat(failing.rejected).as("each value counted once, as rejected by the failure")
                .containsExactly(Map.entry(RejectReason.INTERNAL, 4));
    }

    /**
     * An Error is not a bad value: the batch cannot be answered for, so the server must stop rather than have the
     * writer wait for that batch forever.
     */
    @Test
    void aWorkerThatDiesOfAnErrorSaysSoAndHandsNothingOn() throws Exception {
        var dying = new CountingMetrics() {
            @Override
            public void received(int count) {
                throw new OutOfMemoryError("Java heap space");
            }
        };
        var failFast = new FailFast();
        BlockingQueue<FrameBatch> out = new ArrayBlockingQueue<>(1);
        FrameBatch batch = new FrameBatch(0, 1_764_000_000_000L, 256);
        add(batch, 1, "{\"capteur_id\":\"a\",\"temperature\":20.5}");
        try (var workers = new DecodeWorkers(1, ReadingRules.DEFAULT, dying, out::add, failFast, InjectedFault.NONE)) {
            workers.start();
            workers.submit(batch);
            assertThat(failFast.await(10, TimeUnit.SECONDS)).as("the failure is reported").isTrue();
        }
        assertThat(failFast.failure()).contains("serveur-worker-1 died", "OutOfMemoryError", "Java heap space");
        assertThat(out).isEmpty();
    }

    /** Frames: a reading, a value the selector rejected, an out-of-range reading, another reading. */
    private static FrameBatch decoded(IngestMetrics metrics) throws InterruptedException {
        FrameBatch batch = new FrameBatch(0, 1_764_000_000_000L, 256);
        add(batch, 1, "{\"capteur_id\":\"a\",\"temperature\":20.5}");
        batch.addRejected(CONNECTION, null, 2, RejectReason.GARBAGE, "garbage");
        add(batch, 3, "{\"capteur_id\":\"a\",\"temperature\":-300}");
        add(batch, 4, "{\"capteur_id\":\"b\",\"temperature\":21}");
        BlockingQueue<FrameBatch> out = new ArrayBlockingQueue<>(1);
        try (var workers = new DecodeWorkers(1, ReadingRules.DEFAULT, metrics, out::add, new FailFast(), InjectedFault.NONE)) {
            workers.start();
            workers.submit(batch);
            FrameBatch handedOn = out.poll(10, TimeUnit.SECONDS);
            assertThat(handedOn).as("the batch handed on to the writer").isSameAs(batch);
            return handedOn;
        }
    }

    private static void add(FrameBatch batch, long index, String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        batch.addValue(CONNECTION, null, index, bytes, 0, bytes.length);
    }

    /** Counts rejections by reason. */
    private static class CountingMetrics implements IngestMetrics {
        final Map<RejectReason, Integer> rejected = new EnumMap<>(RejectReason.class);

        @Override
        public void rejected(RejectReason reason, int count) {
            rejected.merge(reason, count, Integer::sum);
        }
    }
}
