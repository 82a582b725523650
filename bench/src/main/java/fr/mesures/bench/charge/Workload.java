package fr.mesures.bench.charge;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * What the load consists of: R readings numbered {@code k = 0 .. R-1}, each one a distinct {@code (capteur_id,
 * timestamp)} so that the store must keep every one of them.
 *
 * <ul>
 *   <li>sensor {@code capteur_(k mod D + 1)}, timestamp {@code base + k div D} (milliseconds): the pair
 *       {@code (k mod D, k div D)} differs for every k, hence unique keys; and time moves forward for all sensors
 *       together, as it does for real sensors reporting "now";</li>
 *   <li>temperature {@code -20.0 .. 39.9} in tenths, from k;</li>
 *   <li>reading k goes to connection {@code k mod C} (connections interleave: with D = 1,000 and C = 100 each
 *       connection carries 10 sensors; with C = D each connection is one sensor).</li>
 * </ul>
 *
 * <p>The same numbering feeds the sqlite3 import ({@link #writeCsv}) and the raw TCP-to-file reference, so every
 * tool handles exactly the same rows. Immutable and thread-safe.
 */
public final class Workload {

    /** 2025-11-24T16:00:00Z: a fixed base, so runs are reproducible. */
    public static final long DEFAULT_BASE_MILLIS = 1_764_000_000_000L;

    private static final byte[] ID_PREFIX = "{\"capteur_id\":\"capteur_".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] TEMPERATURE = "\",\"temperature\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] TIMESTAMP = ",\"timestamp\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] CSV_PREFIX = "capteur_".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** The longest line: prefix, a 10-digit sensor number, "-20.0", a 19-digit timestamp, "}\n". */
    static final int MAX_LINE = ID_PREFIX.length + 10 + TEMPERATURE.length + 5 + TIMESTAMP.length + 19 + 2;

    private final long readings;
    private final int connections;
    private final int sensors;
    private final long baseMillis;

    public Workload(long readings, int connections, int sensors, long baseMillis) {
        if (readings < 0) {
            throw new IllegalArgumentException("readings must be 0 or more");
        }
        if (connections < 1) {
            throw new IllegalArgumentException("there must be at least one connection");
        }
        if (sensors < 1) {
            throw new IllegalArgumentException("there must be at least one sensor");
        }
        if (readings / connections > Integer.MAX_VALUE - 2) {
            throw new IllegalArgumentException("too many readings per connection");
        }
        this.readings = readings;
        this.connections = connections;
        this.sensors = sensors;
        this.baseMillis = baseMillis;
    }

    public long readings() {
        return readings;
    }

    public int connections() {
        return connections;
    }

    public int sensors() {
        return sensors;
    }

    /** How many readings connection {@code c} sends. */
    public int readingsOf(int c) {
        return (int) (readings / connections + (c < readings % connections ? 1 : 0));
    }

    /** The global number of the {@code j}-th reading of connection {@code c}. */
    public long reading(int c, int j) {
        return c + (long) j * connections;
    }

    /** Sensor number (1-based) of reading k: its identifier is {@code "capteur_" + sensor(k)}. */
    public long sensor(long k) {
        return k % sensors + 1;
    }

    public String capteurId(long k) {
        return "capteur_" + sensor(k);
    }

    public long timestamp(long k) {
        return baseMillis + k / sensors;
    }

    /** Temperature in tenths of a degree, -200 .. 399. */
    public int temperatureTenths(long k) {
        return (int) (k % 600) - 200;
    }

    public double temperature(long k) {
        return temperatureTenths(k) / 10.0;
    }

    /**
     * Writes reading k as one NDJSON line (the same text as {@code Reading.toJson()}) at {@code at}; returns the
     * position after it. {@code out} must have {@link #MAX_LINE} bytes free.
     */
    public int line(long k, byte[] out, int at) {
        int p = put(ID_PREFIX, out, at);
        p = putLong(sensor(k), out, p);
        p = put(TEMPERATURE, out, p);
        int tenths = temperatureTenths(k);
        if (tenths < 0) {
            out[p++] = '-';
            tenths = -tenths;
        }
        p = putLong(tenths / 10, out, p);
        out[p++] = '.';
        out[p++] = (byte) ('0' + tenths % 10);
        p = put(TIMESTAMP, out, p);
        p = putLong(timestamp(k), out, p);
        out[p++] = '}';
        out[p++] = '\n';
        return p;
    }

    /**
     * The bytes connection {@code c} sends, in a direct buffer (written to sockets without a copy), and where each
     * value ends. With {@code acksRequest} value 1 is {@code {"acks":true}} and the readings are values 2..n+1.
     */
    public Payload payload(int c, boolean acksRequest) {
        int n = readingsOf(c);
        byte[] request = fr.mesures.protocole.Reply.ACKS_REQUEST.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int values = n + (acksRequest ? 1 : 0);
        int[] ends = new int[values];
        byte[] scratch = new byte[Math.max(64, (int) Math.min(Integer.MAX_VALUE - 64, (long) values * 80))];
        int p = 0;
        int v = 0;
        if (acksRequest) {
            System.arraycopy(request, 0, scratch, 0, request.length);
            p = request.length;
            ends[v++] = p;
        }
        for (int j = 0; j < n; j++) {
            if (p + MAX_LINE > scratch.length) {
                scratch = Arrays.copyOf(scratch, (int) Math.min(Integer.MAX_VALUE - 64, scratch.length * 2L));
            }
            p = line(reading(c, j), scratch, p);
            ends[v++] = p;
        }
        ByteBuffer bytes = ByteBuffer.allocateDirect(p);
        bytes.put(scratch, 0, p).flip();
        return new Payload(bytes, ends, acksRequest ? 2 : 1);
    }

    /** Total bytes of every connection's payload, without acks requests. */
    public long ndjsonBytes() {
        byte[] line = new byte[MAX_LINE];
        long total = 0;
        for (long k = 0; k < readings; k++) {
            total += line(k, line, 0);
        }
        return total;
    }

    /**
     * The same readings as CSV rows in the column order of the table {@code mesures}: capteur_id, timestamp,
     * temperature, received_at (which the sqlite3 import takes from {@code receivedAt}).
     */
    public void writeCsv(OutputStream out, long receivedAt) throws IOException {
        byte[] buffer = new byte[1 << 16];
        byte[] tail = (',' + Long.toString(receivedAt) + '\n').getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int p = 0;
        for (long k = 0; k < readings; k++) {
            if (p + 128 > buffer.length) {
                out.write(buffer, 0, p);
                p = 0;
            }
            p = put(CSV_PREFIX, buffer, p);
            p = putLong(sensor(k), buffer, p);
            buffer[p++] = ',';
            p = putLong(timestamp(k), buffer, p);
            buffer[p++] = ',';
            int tenths = temperatureTenths(k);
            if (tenths < 0) {
                buffer[p++] = '-';
                tenths = -tenths;
            }
            p = putLong(tenths / 10, buffer, p);
            buffer[p++] = '.';
            buffer[p++] = (byte) ('0' + tenths % 10);
            p = put(tail, buffer, p);
        }
        out.write(buffer, 0, p);
        out.flush();
    }

    private static int put(byte[] bytes, byte[] out, int at) {
        System.arraycopy(bytes, 0, out, at, bytes.length);
        return at + bytes.length;
    }

    /** Writes a non-negative number in decimal. */
    static int putLong(long value, byte[] out, int at) {
        if (value == 0) {
            out[at] = '0';
            return at + 1;
        }
        int digits = 0;
        for (long v = value; v > 0; v /= 10) {
            digits++;
        }
        int end = at + digits;
        for (int i = end - 1; i >= at; i--) {
            out[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        return end;
    }

    /**
     * One connection's bytes and value boundaries: {@code ends[v - 1]} is where value v (1-based) ends.
     * {@code firstReading} is the number of the first value that is a reading (2 after an acks request).
     */
    public record Payload(ByteBuffer bytes, int[] ends, int firstReading) {
        public int values() {
            return ends.length;
        }
    }
}
