package fr.mesures.bench.charge;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What one load measured. Times in seconds, latencies in milliseconds.
 *
 * @param bytes          bytes sent in all (acks requests included)
 * @param generateSeconds time to build the payloads (before anything is timed)
 * @param connectSeconds time to open every connection
 * @param elapsedSeconds first byte to last ack (or, fire-and-forget, to the last end of stream)
 * @param sendSeconds    first byte to last byte written
 * @param connected      connections opened
 * @param held           connections that stayed open until their work was done (not reset, not closed early)
 * @param ackedReadings  readings covered by an ack
 * @param latencies      ack latency per reading, microseconds
 * @param lag            at a fixed rate: how late each reading went out compared with its schedule, microseconds
 * @param cpuSeconds     CPU time the generator itself used while connecting and sending
 * @param setup          how the connections were made (TCP, and the TLS handshakes)
 */
public record LoadResult(LoadOptions options, long bytes, double generateSeconds, double connectSeconds,
        double elapsedSeconds, double sendSeconds, int connected, int held, long ackedReadings, Histogram latencies,
        Histogram lag, Errors errors, double cpuSeconds, Handshakes setup) {

    /**
     * How the connect phase went.
     *
     * @param tcpConnected  connections whose TCP connection was made (over TLS, some may then fail their handshake)
     * @param handshakes    TLS: per connection, its ClientHello to handshake done, microseconds (empty in
     *                      plaintext)
     * @param setups        TLS: per connection, connect call to handshake done, microseconds
     * @param lastReadySeconds from the first connect call to the last connection ready (over TLS, the last handshake
     *                      done); {@link #connectSeconds} also waits for the ones that failed
     */
    public record Handshakes(int tcpConnected, Histogram handshakes, Histogram setups, double lastReadySeconds) {
    }

    private static final JsonFactory JSON = new JsonFactory();

    public long readings() {
        return options.workload().readings();
    }

    public double readingsPerSecond() {
        return elapsedSeconds > 0 ? readings() / elapsedSeconds : 0;
    }

    /** Everything went as it should: every connection held, every reading acked (or sent, to a sink), no error. */
    public boolean ok() {
        boolean allCovered = options.sink() || ackedReadings == readings();
        return errors.total() == 0 && connected == options.workload().connections()
                && held == connected && allCovered;
    }

    private static double millis(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
    }

    /** The one machine-readable line: a JSON object. */
    public String toJson() {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("tool", "charge");
            g.writeBooleanField("ok", ok());
            g.writeStringField("mode", mode());
            g.writeBooleanField("tls", options.tlsOn());
            g.writeNumberField("connections", options.workload().connections());
            g.writeNumberField("tcp_connected", setup.tcpConnected());
            g.writeNumberField("connected", connected);
            g.writeNumberField("held", held);
            g.writeNumberField("readings", readings());
            g.writeNumberField("sensors", options.workload().sensors());
            g.writeNumberField("rate_per_connection", options.ratePerSecond());
            g.writeNumberField("threads", options.threads());
            g.writeNumberField("connect_in_flight", options.connectInFlight());
            g.writeNumberField("bytes", bytes);
            g.writeNumberField("generate_s", round(generateSeconds, 3));
            g.writeNumberField("connect_s", round(connectSeconds, 3));
            g.writeNumberField("last_ready_s", round(setup.lastReadySeconds(), 3));
            g.writeNumberField("elapsed_s", round(elapsedSeconds, 4));
            g.writeNumberField("send_s", round(sendSeconds, 4));
            g.writeNumberField("readings_per_s", Math.round(readingsPerSecond()));
            g.writeNumberField("mb_per_s", round(elapsedSeconds > 0 ? bytes / elapsedSeconds / 1e6 : 0, 1));
            g.writeNumberField("acked_readings", ackedReadings);
            g.writeNumberField("warmup_s", options.warmup().toMillis() / 1000.0);
            writePercentiles(g, "latency_ms", latencies);
            if (options.tlsOn()) {
                writePercentiles(g, "tls_handshake_ms", setup.handshakes());
                writePercentiles(g, "tls_setup_ms", setup.setups());
            }
            if (options.fixedRate()) {
                g.writeObjectFieldStart("send_lag_ms");
                g.writeNumberField("p99", round(millis(lag, 99), 3));
                g.writeNumberField("max", round(lag.getTotalCount() == 0 ? 0 : lag.getMaxValue() / 1000.0, 3));
                g.writeEndObject();
            }
            g.writeNumberField("errors", errors.total());
            g.writeObjectFieldStart("error_kinds");
            for (Map.Entry<String, Long> e : errors.counts().entrySet()) {
                g.writeNumberField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
            g.writeArrayFieldStart("error_samples");
            for (String s : errors.samples()) {
                g.writeString(s);
            }
            g.writeEndArray();
            g.writeNumberField("generator_cpu_s", round(cpuSeconds, 3));
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private String mode() {
        if (options.handshakesOnly()) {
            return "handshakes";
        }
        return options.sink() ? "sink" : options.acks() ? "acks" : "fire-and-forget";
    }

    private static void writePercentiles(JsonGenerator g, String name, Histogram h) throws IOException {
        g.writeObjectFieldStart(name);
        g.writeNumberField("count", h.getTotalCount());
        g.writeNumberField("p50", round(millis(h, 50), 3));
        g.writeNumberField("p90", round(millis(h, 90), 3));
        g.writeNumberField("p99", round(millis(h, 99), 3));
        g.writeNumberField("p999", round(millis(h, 99.9), 3));
        g.writeNumberField("max", round(h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1000.0, 3));
        g.writeEndObject();
    }

    /** The line for a person. */
    public String toHuman() {
        if (options.handshakesOnly()) {
            return handshakesToHuman();
        }
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%s: %,d readings over %,d connections (%s) in %.3f s = %,.0f readings/s"
                        + " (%.1f MB/s); connect %.2f s; ",
                ok() ? "OK" : "FAILED", readings(), options.workload().connections(),
                options.sink() ? "to a sink" : options.acks() ? "acked" : "fire-and-forget", elapsedSeconds,
                readingsPerSecond(), elapsedSeconds > 0 ? bytes / elapsedSeconds / 1e6 : 0, connectSeconds));
        if (latencies.getTotalCount() > 0) {
            if (!options.warmup().isZero()) {
                s.append(String.format(Locale.ROOT, "after a %.0f s warm-up: ", options.warmup().toMillis() / 1e3));
            }
            s.append(String.format(Locale.ROOT, "ack latency p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; ",
                    millis(latencies, 50), millis(latencies, 99), millis(latencies, 99.9),
                    latencies.getMaxValue() / 1000.0));
        }
        if (options.fixedRate()) {
            s.append(String.format(Locale.ROOT, "send lag p99 %.2f ms; ", millis(lag, 99)));
        }
        if (options.tlsOn()) {
            s.append(String.format(Locale.ROOT, "TLS handshake p50 %.2f ms, p99 %.2f ms; ",
                    millis(setup.handshakes(), 50), millis(setup.handshakes(), 99)));
        }
        s.append(String.format(Locale.ROOT, "%,d of %,d connections held; %,d errors; generator CPU %.2f s",
                held, options.workload().connections(), errors.total(), cpuSeconds));
        appendSamples(s);
        return s.toString();
    }

    private String handshakesToHuman() {
        Histogram h = setup.handshakes();
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%s: %,d TLS connections, at most %,d"
                        + " connecting at once: %,d handshakes done (%,d TCP connections made); all settled in %.3f s,"
                        + " the last handshake done at %.3f s; handshake p50 %.2f ms, p99 %.2f ms, max %.2f ms;"
                        + " connect + handshake p50 %.2f ms, p99 %.2f ms; %,d errors; generator CPU %.2f s",
                ok() ? "OK" : "FAILED", options.workload().connections(),
                Math.min(options.connectInFlight(), options.workload().connections()), connected,
                setup.tcpConnected(), connectSeconds, setup.lastReadySeconds(), millis(h, 50), millis(h, 99),
                h.getTotalCount() == 0 ? 0 : h.getMaxValue() / 1000.0, millis(setup.setups(), 50),
                millis(setup.setups(), 99), errors.total(), cpuSeconds));
        appendSamples(s);
        return s.toString();
    }

    private void appendSamples(StringBuilder s) {
        if (!errors.counts().isEmpty()) {
            s.append(System.lineSeparator()).append("  errors by kind: ").append(errors.counts());
        }
        for (String sample : errors.samples()) {
            s.append(System.lineSeparator()).append("  ").append(sample);
        }
    }

    private static double round(double value, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(value * scale) / scale;
    }
}
