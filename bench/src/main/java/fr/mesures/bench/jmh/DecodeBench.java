package fr.mesures.bench.jmh;

import fr.mesures.bench.charge.Workload;
import fr.mesures.protocole.ReadingDecoder;
import fr.mesures.protocole.ReadingRules;
import fr.mesures.protocole.RejectReason;
import fr.mesures.serveur.storage.ReadingBlock;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The workers' decode and validate: {@link ReadingDecoder} (Jackson streaming parser, identifier cache, rules)
 * into a {@link ReadingBlock}, the way a worker fills a batch. Score: ns per reading.
 *
 * <ul>
 *   <li>{@code oneValue}: one NDJSON line, the same one each time (best case for the identifier cache);</li>
 *   <li>{@code frames}: 4,096 distinct lines over 1,000 sensors, one decode call (one parser) per line;</li>
 *   <li>{@code sequence}: the same lines through one {@link ReadingDecoder.Sequence}, as a worker decodes a
 *       selector round's batch;</li>
 *   <li>{@code arrayValue}: the same 4,096 readings as JSON arrays of 512 (the protocol's batch form).</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DecodeBench {

    static final int FRAMES = 4_096;
    static final int ARRAY = 512;

    ReadingDecoder decoder;
    Sink sink;
    byte[] one;
    byte[] frames;
    int[] ends;
    byte[][] arrays;
    byte[] endToEnd;
    int[] lengths;

    @Setup
    public void setUp() {
        decoder = new ReadingDecoder(ReadingRules.DEFAULT);
        sink = new Sink();
        Workload.Payload p = Ndjson.lines(FRAMES);
        frames = Ndjson.bytes(p);
        ends = p.ends();
        one = java.util.Arrays.copyOf(frames, ends[0]);
        // As a batch holds them: the values without their newlines, end to end.
        var packed = new java.io.ByteArrayOutputStream(frames.length);
        lengths = new int[FRAMES];
        for (int i = 0, start = 0; i < FRAMES; start = ends[i], i++) {
            lengths[i] = ends[i] - start - 1;
            packed.write(frames, start, lengths[i]);
        }
        endToEnd = packed.toByteArray();
        arrays = new byte[FRAMES / ARRAY][];
        for (int a = 0; a < arrays.length; a++) {
            StringBuilder json = new StringBuilder("[");
            for (int i = a * ARRAY; i < (a + 1) * ARRAY; i++) {
                int start = i == 0 ? 0 : ends[i - 1];
                json.append(new String(frames, start, ends[i] - start - 1, StandardCharsets.US_ASCII));
                json.append(i + 1 < (a + 1) * ARRAY ? "," : "]");
            }
            arrays[a] = json.toString().getBytes(StandardCharsets.US_ASCII);
        }
    }

    @Benchmark
    public int oneValue() {
        sink.block = new ReadingBlock(FRAMES);
        decoder.decode(one, 0, one.length, sink);
        return sink.block.size();
    }

    @Benchmark
    @OperationsPerInvocation(FRAMES)
    public int frames() {
        sink.block = new ReadingBlock(FRAMES);
        int start = 0;
        for (int end : ends) {
            decoder.decode(frames, start, end - start, sink);
            start = end;
        }
        return sink.block.size();
    }

    @Benchmark
    @OperationsPerInvocation(FRAMES)
    public int sequence() {
        sink.block = new ReadingBlock(FRAMES);
        try (ReadingDecoder.Sequence values = decoder.sequence(endToEnd, 0, endToEnd.length)) {
            for (int length : lengths) {
                values.next(length, sink);
            }
        }
        return sink.block.size();
    }

    @Benchmark
    @OperationsPerInvocation(FRAMES)
    public int arrayValue() {
        sink.block = new ReadingBlock(FRAMES);
        for (byte[] a : arrays) {
            decoder.decode(a, 0, a.length, sink);
        }
        return sink.block.size();
    }

    static final class Sink implements ReadingDecoder.Sink {
        ReadingBlock block;

        @Override
        public void reading(String capteurId, double temperature, long timestamp) {
            block.add(capteurId, temperature, timestamp);
        }

        @Override
        public void rejected(int element, RejectReason reason, String message) {
            throw new AssertionError(message);
        }
    }
}
