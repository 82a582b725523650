package fr.mesures.bench.charge;

import java.time.Duration;

/**
 * One load: where to send, how much, how fast.
 *
 * @param host            server address; Charge gives an IP literal (it resolves a name once, before the run)
 * @param port            server port
 * @param workload        the readings and how they spread over connections and sensors
 * @param ratePerSecond   readings per second per connection; 0 for full speed
 * @param acks            send {@code {"acks": true}} first and wait for the ack of every value; false is
 *                        fire-and-forget: send everything, half-close, wait for the final ack (or the end of the
 *                        stream)
 * @param sink            the peer is a raw sink (socat, /dev/null): it never acks; the end of its stream after our
 *                        half-close means done. Implies no acks.
 * @param threads         selector threads
 * @param connectInFlight connection attempts in progress at once (a burst of thousands overflows listen backlogs)
 * @param timeout         the whole run gives up after this
 * @param warmup          at a fixed rate: readings due in this first part of the run are sent and acked but their
 *                        latency is not recorded (the server's and the generator's JIT, the first commits)
 * @param progress        one line a second per thread on standard error while sending (--progress)
 * @param tls             every connection over TLS to this target; null for plaintext
 * @param handshakesOnly  TLS only: open every connection, complete its handshake, hold it until all are settled,
 *                        then close them; no readings. The connect phase is then the measurement.
 */
public record LoadOptions(String host, int port, Workload workload, double ratePerSecond, boolean acks,
        boolean sink, int threads, int connectInFlight, Duration timeout, Duration warmup, boolean progress,
        TlsTarget tls, boolean handshakesOnly) {

    /** A plaintext load. */
    public LoadOptions(String host, int port, Workload workload, double ratePerSecond, boolean acks, boolean sink,
            int threads, int connectInFlight, Duration timeout, Duration warmup, boolean progress) {
        this(host, port, workload, ratePerSecond, acks, sink, threads, connectInFlight, timeout, warmup, progress,
                null, false);
    }

    public LoadOptions {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be between 1 and 65535");
        }
        if (ratePerSecond < 0 || Double.isNaN(ratePerSecond) || Double.isInfinite(ratePerSecond)) {
            throw new IllegalArgumentException("the rate must be a positive number (or 0 for full speed)");
        }
        if (sink && acks) {
            throw new IllegalArgumentException("a sink sends no acks: use it with fire-and-forget");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("there must be at least one thread");
        }
        threads = Math.min(threads, workload.connections());
        if (!warmup.isZero() && ratePerSecond <= 0) {
            throw new IllegalArgumentException("a warm-up needs a fixed rate (--rate)");
        }
        if (connectInFlight < 1) {
            throw new IllegalArgumentException("connect-in-flight must be at least 1");
        }
        if (tls != null && sink) {
            throw new IllegalArgumentException("a sink is raw TCP: it cannot take TLS");
        }
        if (tls != null && !acks) {
            // Its end is a half-close, and over TLS that is a close_notify, after which tls-channel reads nothing:
            // the server's final ack could not be read.
            throw new IllegalArgumentException("fire-and-forget does not work over TLS: use acks");
        }
        if (handshakesOnly && tls == null) {
            throw new IllegalArgumentException("timing handshakes needs TLS (--tls-ca)");
        }
        if (workload.largestPayloadBytes(acks) > Workload.MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("too many readings per connection: one connection's bytes must fit"
                    + " in 2 GiB (" + workload.largestPayloadBytes(acks) + " bytes); use more connections");
        }
    }

    public boolean tlsOn() {
        return tls != null;
    }

    public boolean fixedRate() {
        return ratePerSecond > 0;
    }

    /** Nanoseconds between two readings of one connection at a fixed rate. */
    public long periodNanos() {
        return Math.max(1, Math.round(1e9 / ratePerSecond));
    }
}
