package fr.mesures.bench.jmh;

import fr.mesures.protocole.RejectReason;
import fr.mesures.serveur.protocol.FrameScanner;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The selector thread's framing: {@link FrameScanner} cutting NDJSON into values, fed in reads of the server's
 * read-buffer size (values cut by a read boundary go through the scanner's carry). Score: ns per reading.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FrameScanBench {

    static final int READINGS = 16_384;

    /** Bytes per read: the server reads into 256 KiB; small reads show the cost of carrying cut values. */
    @Param({"262144", "1460"})
    int readBytes;

    byte[] data;
    FrameScanner scanner;
    Sink sink;

    @Setup
    public void setUp(Blackhole blackhole) {
        data = Ndjson.bytes(Ndjson.lines(READINGS));
        scanner = new FrameScanner(64 * 1024);
        sink = new Sink(blackhole);
    }

    @Benchmark
    @OperationsPerInvocation(READINGS)
    public int scan() {
        sink.values = 0;
        for (int from = 0; from < data.length; from += readBytes) {
            scanner.scan(data, from, Math.min(data.length, from + readBytes), sink);
        }
        return sink.values;
    }

    static final class Sink implements FrameScanner.Sink {
        final Blackhole blackhole;
        int values;

        Sink(Blackhole blackhole) {
            this.blackhole = blackhole;
        }

        @Override
        public void value(byte[] data, int offset, int length) {
            values++;
            blackhole.consume(length);
        }

        @Override
        public void rejected(RejectReason reason, String message) {
            throw new AssertionError(message);
        }
    }
}
