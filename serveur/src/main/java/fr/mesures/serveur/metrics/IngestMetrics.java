package fr.mesures.serveur.metrics;

import fr.mesures.protocole.RejectReason;

/**
 * What the ingest pipeline reports. The pipeline sees only this interface, so it does not depend on a metrics
 * library; every method is cheap and safe to call from any thread. Each does nothing by default, so that a tool
 * or a test double implements only what it looks at.
 */
public interface IngestMetrics {

    /** Reports nothing; for tools and tests that do not look at metrics. */
    IngestMetrics NONE = new IngestMetrics() {
    };

    /** A connection was accepted, on the TLS port or the plaintext one. */
    default void connectionOpened(boolean tls) {
    }

    /** A TLS connection finished its handshake. */
    default void tlsHandshake() {
    }

    /** A TLS handshake failed or timed out; {@code reason} is one of {@code TlsFailures.REASONS}. */
    default void tlsHandshakeFailed(String reason) {
    }

    default void connectionRefused() {
    }

    default void connectionIdleClosed() {
    }

    /** A connection was closed because a value it started was not finished within the idle timeout. */
    default void connectionValueTimedOut() {
    }

    /** Bytes read from clients' sockets. */
    default void bytesReceived(int bytes) {
    }

    /** {@code count} readings decoded and valid, on their way to the store. */
    default void received(int count) {
    }

    /** {@code count} values or batch elements rejected for {@code reason}. */
    default void rejected(RejectReason reason, int count) {
    }

    /** A commit of {@code stored} new readings ({@code duplicates} were already stored) took {@code nanos}. */
    default void committed(int stored, int duplicates, long nanos) {
    }

    default void storeFailed() {
    }

    /**
     * The acknowledgement of a connection's values read together (one read, one selector round) is queued for
     * writing, {@code nanos} after that round.
     */
    default void acknowledged(long nanos) {
    }

    /** A sensor's last committed reading: its temperature, and when the server received it (epoch ms). */
    default void lastReading(String capteurId, double celsius, long receivedAtMillis) {
    }

    /** Error lines not sent to a client that did not read them. */
    default void repliesDropped(long lines) {
    }
}
