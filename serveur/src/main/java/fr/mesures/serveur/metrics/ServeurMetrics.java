package fr.mesures.serveur.metrics;

import fr.mesures.protocole.RejectReason;
import fr.mesures.serveur.auth.AuthFailure;
import fr.mesures.serveur.network.TlsFailures;
import fr.mesures.serveur.reload.Watched;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/**
 * The server's metrics in a Micrometer Prometheus registry, scraped at {@code /metrics}. Meters are created once
 * and kept in fields, so reporting costs an add on a striped counter, never a lookup by name. The exception is the
 * per-sensor gauges: one map lookup per committed reading, on the writer thread (moving it to the selector thread
 * changed neither the writer's CPU nor throughput: 3 interleaved rounds per store, by hand, 2026-11-24).
 *
 * <p>{@code capteur_temperature_celsius} gets one series per sensor, up to a limit: an identifier is free text
 * from clients, and unbounded label values would grow the registry (and Prometheus) without end.
 */
public final class ServeurMetrics implements IngestMetrics, AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter bytes;
    private final Counter received;
    private final Counter stored;
    private final Counter duplicates;
    private final Map<RejectReason, Counter> rejected = new EnumMap<>(RejectReason.class);
    private final Counter connections;
    private final Counter tlsConnections;
    private final Counter tlsHandshakes;
    private final Map<String, Counter> tlsFailures = new HashMap<>();
    private final Map<AuthFailure, Counter> authFailures = new EnumMap<>(AuthFailure.class);
    private final Counter tokenLogins;
    private final Counter certificateLogins;
    private final Counter revoked;
    private final Counter refused;
    private final Counter idleClosed;
    private final Counter valueTimedOut;
    private final Counter storeFailures;
    private final Counter repliesDropped;
    private final Counter httpUnauthorized;
    private final Timer commits;
    private final Timer ackLatency;
    private final Map<String, SensorSeries> sensors = new ConcurrentHashMap<>();
    private final int maxSensors;
    private final JvmGcMetrics gc = new JvmGcMetrics();

    public ServeurMetrics(int maxSensors) {
        this.maxSensors = maxSensors;
        bytes = Counter.builder("serveur.received").baseUnit("bytes")
                .description("Bytes read from clients").register(registry);
        received = Counter.builder("serveur.readings.received")
                .description("Readings decoded and valid, handed to the store").register(registry);
        stored = Counter.builder("serveur.readings.stored")
                .description("Readings committed to the store").register(registry);
        duplicates = Counter.builder("serveur.readings.duplicate")
                .description("Readings already stored (same capteur_id and timestamp), acknowledged again")
                .register(registry);
        for (RejectReason reason : RejectReason.values()) {
            rejected.put(reason, Counter.builder("serveur.readings.rejected")
                    .description("Values or batch elements rejected, by reason")
                    .tag("reason", reason.label()).register(registry));
        }
        connections = Counter.builder("serveur.connections")
                .description("Connections accepted").tag("transport", "tcp").register(registry);
        tlsConnections = Counter.builder("serveur.connections")
                .description("Connections accepted").tag("transport", "tls").register(registry);
        tlsHandshakes = Counter.builder("serveur.tls.handshakes")
                .description("TLS handshakes completed").register(registry);
        for (String reason : TlsFailures.REASONS) {
            tlsFailures.put(reason, Counter.builder("serveur.tls.handshake.failures")
                    .description("TLS connections closed before their handshake completed, by reason")
                    .tag("reason", reason).register(registry));
        }
        for (AuthFailure failure : AuthFailure.values()) {
            authFailures.put(failure, Counter.builder("serveur.auth.failures")
                    .description("Connections refused because they did not authenticate, by reason")
                    .tag("reason", failure.label()).register(registry));
        }
        tokenLogins = Counter.builder("serveur.auth.successes")
                .description("Connections that proved who they are, by method").tag("method", "token")
                .register(registry);
        certificateLogins = Counter.builder("serveur.auth.successes")
                .description("Connections that proved who they are, by method").tag("method", "certificate")
                .register(registry);
        revoked = Counter.builder("serveur.connections.revoked")
                .description("Connections closed because their credential was revoked").register(registry);
        refused = Counter.builder("serveur.connections.refused")
                .description("Connections refused because the server was at its connection limit")
                .register(registry);
        idleClosed = Counter.builder("serveur.connections.idle.closed")
                .description("Connections closed after the idle timeout").register(registry);
        valueTimedOut = Counter.builder("serveur.connections.value.timeout")
                .description("Connections closed because a value they started was not finished within the idle"
                        + " timeout").register(registry);
        storeFailures = Counter.builder("serveur.store.failures")
                .description("Store writes that failed and were retried").register(registry);
        repliesDropped = Counter.builder("serveur.replies.dropped")
                .description("Error lines left out: the client did not read them, or one value had more errors than"
                        + " are reported one by one").register(registry);
        httpUnauthorized = Counter.builder("serveur.http.unauthorized")
                .description("Requests for /metrics refused for want of the right bearer token").register(registry);
        commits = Timer.builder("serveur.store.commit")
                .description("Time to write and commit one group of readings").register(registry);
        // A histogram, for percentiles over any window and any set of servers (histogram_quantile): the latency a
        // sensor sees, less the network, without a label per connection.
        ackLatency = Timer.builder("serveur.ack.latency")
                .description("Per connection and read: from the selector round that read values to the one that"
                        + " writes their ack (stored and committed, or rejected with an error line)")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry);
        Gauge.builder("serveur.sensors.tracked", sensors, Map::size)
                .description("Sensors with a capteur_temperature_celsius series; new ones get none past the limit")
                .register(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /** Registers a gauge read from the owner at scrape time. */
    public <T> void gauge(String name, String description, T owner, ToDoubleFunction<T> value) {
        Gauge.builder(name, owner, value).description(description).register(registry);
    }

    /** Counts the refused reloads of a watched file set, under its name, from 0. */
    public void reloadWatched(Watched<?> watched) {
        FunctionCounter.builder("serveur.reload.failures", watched, Watched::failures)
                .description("Reloads of changed files refused (the value in use was kept), by what the files are")
                .tag("what", watched.what()).register(registry);
        Gauge.builder("serveur.reload.refusing", watched, w -> w.refusing() ? 1 : 0)
                .description("1 while changed files are refused and the previous value is served, by what the files"
                        + " are; 0 once they load")
                .tag("what", watched.what()).register(registry);
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void connectionOpened(boolean tls) {
        (tls ? tlsConnections : connections).increment();
    }

    @Override
    public void tlsHandshake() {
        tlsHandshakes.increment();
    }

    @Override
    public void tlsHandshakeFailed(String reason) {
        tlsFailures.getOrDefault(reason, tlsFailures.get("other")).increment();
    }

    /** A connection proved who it is, with a token or else with a client certificate. */
    public void authSucceeded(boolean token) {
        (token ? tokenLogins : certificateLogins).increment();
    }

    public void authFailed(AuthFailure failure) {
        authFailures.get(failure).increment();
    }

    public void connectionRevoked() {
        revoked.increment();
    }

    @Override
    public void connectionRefused() {
        refused.increment();
    }

    @Override
    public void connectionIdleClosed() {
        idleClosed.increment();
    }

    @Override
    public void connectionValueTimedOut() {
        valueTimedOut.increment();
    }

    @Override
    public void bytesReceived(int count) {
        bytes.increment(count);
    }

    @Override
    public void received(int count) {
        if (count > 0) {
            received.increment(count);
        }
    }

    @Override
    public void rejected(RejectReason reason, int count) {
        rejected.get(reason).increment(count);
    }

    @Override
    public void committed(int storedCount, int duplicateCount, long nanos) {
        stored.increment(storedCount);
        if (duplicateCount > 0) {
            duplicates.increment(duplicateCount);
        }
        commits.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void acknowledged(long nanos) {
        ackLatency.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void storeFailed() {
        storeFailures.increment();
    }

    @Override
    public void lastReading(String capteurId, double celsius, long receivedAtMillis) {
        SensorSeries series = sensors.get(capteurId);
        if (series == null) {
            if (sensors.size() >= maxSensors) {
                return;
            }
            series = sensors.computeIfAbsent(capteurId, this::newSeries);
        }
        series.set(celsius, receivedAtMillis);
    }

    private SensorSeries newSeries(String capteurId) {
        SensorSeries series = new SensorSeries();
        Gauge.builder("capteur.temperature.celsius", series, SensorSeries::celsius)
                .description("Last stored temperature of each sensor, in degrees Celsius")
                .tag("capteur_id", capteurId).register(registry);
        Gauge.builder("capteur.last.seen.timestamp.seconds", series, SensorSeries::seenSeconds)
                .description("When the server received each sensor's last stored reading (Unix time)")
                .tag("capteur_id", capteurId).register(registry);
        return series;
    }

    /**
     * A sensor's two gauges. Written by the store's writer thread, read by scrapes: release/acquire is all a gauge
     * needs (a scrape may see a value one commit old, never a torn one).
     */
    private static final class SensorSeries {
        private final AtomicLong celsiusBits = new AtomicLong(Double.doubleToRawLongBits(Double.NaN));
        private final AtomicLong seenMillis = new AtomicLong();

        void set(double celsius, long receivedAtMillis) {
            celsiusBits.setRelease(Double.doubleToRawLongBits(celsius));
            seenMillis.setRelease(receivedAtMillis);
        }

        double celsius() {
            return Double.longBitsToDouble(celsiusBits.getAcquire());
        }

        double seenSeconds() {
            return seenMillis.getAcquire() / 1000.0;
        }
    }

    @Override
    public void repliesDropped(long lines) {
        repliesDropped.increment(lines);
    }

    /** A {@code /metrics} request refused: no token, or a wrong one. Called on Jetty's threads. */
    public void httpUnauthorized() {
        httpUnauthorized.increment();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
