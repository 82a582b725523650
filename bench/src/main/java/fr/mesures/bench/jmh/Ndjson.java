package fr.mesures.bench.jmh;

import fr.mesures.bench.charge.Workload;
import java.nio.ByteBuffer;

/** NDJSON the way the load generator sends it: 1,000 sensors, unique keys, one reading per line. */
final class Ndjson {

    private Ndjson() {
    }

    /** {@code readings} lines as one byte array, and where each line ends. */
    static Workload.Payload lines(int readings) {
        return new Workload(readings, 1, 1_000, Workload.DEFAULT_BASE_MILLIS).payload(0, false);
    }

    static byte[] bytes(Workload.Payload payload) {
        ByteBuffer b = payload.bytes().duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
