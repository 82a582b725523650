package fr.mesures.serveur.metrics;

import fr.mesures.protocole.RejectReason;

/**
 * What the ingest pipeline reports. The pipeline sees only this interface, so it does not depend on a metrics
 * library; every method is cheap and safe to call from any thread.
 */
public interface IngestMetrics {

    void connectionOpened();

    void connectionRefused();

    void connectionIdleClosed();

    /** Bytes read from clients' sockets. */
    void bytesReceived(int bytes);

    /** {@code count} readings decoded and valid, on their way to the store. */
    void received(int count);

    void rejected(RejectReason reason);

    /** A commit of {@code stored} new readings ({@code duplicates} were already stored) took {@code nanos}. */
    void committed(int stored, int duplicates, long nanos);

    void storeFailed();

    /** A sensor's last committed reading: its temperature, and when the server received it (epoch ms). */
    void lastReading(String capteurId, double celsius, long receivedAtMillis);

    /** Error lines not sent to a client that did not read them. */
    void repliesDropped(long lines);

    /** Reports nothing; for tools and tests that do not look at metrics. */
    IngestMetrics NONE = new IngestMetrics() {
        @Override
        public void connectionOpened() {
        }

        @Override
        public void connectionRefused() {
        }

        @Override
        public void connectionIdleClosed() {
        }

        @Override
        public void bytesReceived(int bytes) {
        }

        @Override
        public void received(int count) {
        }

        @Override
        public void rejected(RejectReason reason) {
        }

        @Override
        public void committed(int stored, int duplicates, long nanos) {
        }

        @Override
        public void storeFailed() {
        }

        @Override
        public void lastReading(String capteurId, double celsius, long receivedAtMillis) {
        }

        @Override
        public void repliesDropped(long lines) {
        }
    };
}
