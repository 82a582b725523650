package fr.mesures.serveur.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.protocole.ConnectionReason;
import fr.mesures.protocole.ReadingRules;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.Reply;
import fr.mesures.protocole.ReadingDecoder;
import fr.mesures.serveur.memory.Footprint;
import fr.mesures.serveur.protocol.FrameScanner;
import fr.mesures.serveur.protocol.Replies;
import fr.mesures.serveur.storage.ReadingBlock;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.openjdk.jol.info.GraphLayout;

/**
 * The memory model's arithmetic against the real objects: for the worst input of each kind, a batch is cut, charged
 * and decoded exactly as the server does it, then measured with JOL, and must not weigh more than what the selector
 * charged for it, neither when it cut it (the worst case) nor once decoded (what each frame says it holds). A
 * change that makes a batch heavier (a new column, a longer message) fails here instead of in production.
 */
class FootprintTest {

    static {
        // Records' fields have no offset JOL can ask the JVM for; it finds them another way with this.
        System.setProperty("jol.magicFieldOffset", "true");
    }

    /** The stand-in for the connection a frame belongs to; shared, so not part of any batch. */
    private static final Object OWNER = new Object();

    /** Not a worst case: what a sensor sends. Its charge over its weight is what the model costs in throughput. */
    @Test
    void typicalReadingsOfAFewSensors() {
        assertWithinCharge(i -> "{\"capteur_id\":\"capteur_" + i % 5 + "\",\"temperature\":21." + i
                + ",\"timestamp\":" + (1_764_000_000_000L + i) + "}");
    }

    @Test
    void emptyObjectsEachRejectedAsMissingAField() {
        assertWithinCharge(i -> "{}");
    }

    @Test
    void garbageLinesEachRejectedByTheScannerWithAMessage() {
        assertWithinCharge(i -> (char) ('a' + i % 26) + "\n");
    }

    @Test
    void readingsEachWithAnIdentifierNeverSeenBefore() {
        assertWithinCharge(i -> "{\"capteur_id\":\"" + id(i, 64) + "\",\"temperature\":" + i + "}");
    }

    @Test
    void invalidIdentifiersOfMaximalLengthInCharactersJsonEscapes() {
        assertWithinCharge(i -> "{\"capteur_id\":\"" + "\\u0001\\\"".repeat(300) + i + "\",\"temperature\":1}");
    }

    @Test
    void malformedValuesWithLongJacksonMessages() {
        assertWithinCharge(i -> "{\"capteur_id\":\"a\",\"temperature\":tru" + "e".repeat(200) + i + "}");
    }

    @Test
    void arraysOfTheShortestReadingsPossible() {
        assertWithinCharge(i -> "[" + ("{\"capteur_id\":\"" + id(i, 1) + "\",\"temperature\":0},").repeat(1800)
                + "{\"capteur_id\":\"z\",\"temperature\":0}]");
    }

    @Test
    void arraysOfRejectedElementsPastTheReportedOnes() {
        String badId = "{\"capteur_id\":\"" + "\\u0002".repeat(30) + "\",\"temperature\":1},";
        assertWithinCharge(i -> "[" + badId.repeat(20) + "1,".repeat(20_000) + "{}]");
    }

    @Test
    void arraysOfIdentifiersNeverSeenBefore() {
        assertWithinCharge(i -> {
            var array = new StringBuilder("[");
            for (int k = 0; k < 600; k++) {
                array.append("{\"capteur_id\":\"").append(id(i * 1000 + k, 64)).append("\",\"temperature\":1},");
            }
            return array.append("{}]").toString();
        });
    }

    @Test
    void acksRequests() {
        assertWithinCharge(i -> "{\"acks\":true}");
    }

    @Test
    void authRequestsShortAndLongWithAndWithoutAcks() {
        assertWithinCharge(i -> Reply.authRequest("t".repeat(43), i % 2 == 0).strip());
        assertWithinCharge(i -> Reply.authRequest("€".repeat(ReadingDecoder.MAX_TOKEN_CHARS - i), true).strip());
        assertWithinCharge(i -> Reply.authRequest("€".repeat(2_000 + i), true).strip());
    }

    @Test
    void replyLinesWeighWhatTheyAreChargedEvenAtTheirLongest() {
        var replies = new Replies();
        for (int i = 0; i < Replies.MAX_ERROR_LINES; i++) {
            replies.error(Replies.line(Reply.Error.ofValue(Long.MAX_VALUE, Integer.MAX_VALUE,
                    RejectReason.INVALID_TIMESTAMP, "\"".repeat(10_000))));
        }
        replies.notice(ConnectionReason.VALUE_TIMEOUT, "\u2028".repeat(10_000));
        long empty = GraphLayout.parseInstance(new Replies()).totalSize();
        assertThat(GraphLayout.parseInstance(replies).totalSize() - empty).isLessThanOrEqualTo(replies.footprint());
    }

    @Test
    void aPartialValueWeighsWhatItIsCharged() {
        var scanner = new FrameScanner(64 * 1024);
        var random = new Random(7);
        byte[] value = ("{\"capteur_id\":\"" + "x".repeat(60_000) + "\",\"temperature\":1}")
                .getBytes(StandardCharsets.US_ASCII);
        int at = 0;
        long empty = GraphLayout.parseInstance(new FrameScanner(64 * 1024)).totalSize();
        while (at < value.length - 1) {
            int n = Math.min(value.length - 1 - at, 1 + random.nextInt(3000));
            scanner.scan(value, at, at + n, new CountingSink());
            at += n;
            long measured = GraphLayout.parseInstance(scanner).totalSize() - empty;
            // The array's header is part of a connection's fixed cost, Footprint.CONNECTION.
            assertThat(measured).isLessThanOrEqualTo(scanner.carryFootprint() + 16);
        }
    }

    /** Cuts 60 values of the given shape into one batch as the selector does, decodes it, and weighs it. */
    private static void assertWithinCharge(IntFunction<String> value) {
        var text = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            text.append(value.apply(i)).append('\n');
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        var batch = new FrameBatch(0, 1_764_000_000_000L, 4096);
        var sink = new BatchSink(batch);
        new FrameScanner(1 << 20).scan(bytes, 0, bytes.length, sink);
        long charged = sink.charged + Footprint.batchOverhead(batch.dataCapacity(), batch.dataLength(),
                batch.frameCapacity(), batch.frames());

        DecodeWorkers.decode(new ReadingDecoder(ReadingRules.DEFAULT), batch);
        ReadingBlock readings = batch.readings();
        for (int row = 0; row < readings.size(); row++) {
            // The store's worst: every reading a conflict, which needs the stored temperature too.
            readings.conflict(row, 1.0);
        }

        long overhead = Footprint.batchOverhead(batch.dataCapacity(), batch.dataLength(), batch.frameCapacity(),
                batch.frames());
        long settled = overhead;
        for (int frame = 0; frame < batch.frames(); frame++) {
            long cut = batch.length(frame) < 0 ? Footprint.rejectedValue()
                    : Footprint.value(batch.data()[batch.offset(frame)], batch.length(frame));
            assertThat((long) batch.decodedCost(frame)).as("frame %d once decoded, against its worst case", frame)
                    .isBetween(0L, cut);
            settled += batch.decodedCost(frame);
        }

        long measured = GraphLayout.parseInstance(batch)
                .subtract(GraphLayout.parseInstance(OWNER, RejectReason.values())).totalSize();
        System.out.printf("%-50.50s %8d bytes measured, %8d charged once decoded (%.2f), %8d when cut (%.2f)%n",
                new String(bytes, 0, Math.min(bytes.length, 50), StandardCharsets.UTF_8).replace('\n', ' '),
                measured, settled, (double) settled / measured, charged, (double) charged / measured);
        assertThat(batch.frames()).isEqualTo(60);
        assertThat(measured).as("bytes measured, against %d charged once decoded", settled)
                .isLessThanOrEqualTo(settled);
    }

    /** A distinct identifier for each {@code i}, of {@code length} characters. */
    private static String id(int i, int length) {
        String digits = Integer.toString(i, 36);
        return digits.length() >= length ? digits : "c".repeat(length - digits.length()) + digits;
    }

    private static final class BatchSink implements FrameScanner.Sink {
        private final FrameBatch batch;
        private long index;
        long charged;

        BatchSink(FrameBatch batch) {
            this.batch = batch;
        }

        @Override
        public void value(byte[] data, int offset, int length) {
            batch.addValue(OWNER, null, ++index, data, offset, length);
            charged += Footprint.value(data[offset], length);
        }

        @Override
        public void rejected(RejectReason reason, String message) {
            batch.addRejected(OWNER, null, ++index, reason, message);
            charged += Footprint.rejectedValue();
        }
    }

    private static final class CountingSink implements FrameScanner.Sink {
        @Override
        public void value(byte[] data, int offset, int length) {
        }

        @Override
        public void rejected(RejectReason reason, String message) {
        }
    }
}
