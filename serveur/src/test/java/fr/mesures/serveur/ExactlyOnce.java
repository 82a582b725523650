package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.protocole.Reading;
import fr.mesures.protocole.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The basic promise, checked the same way over any transport: many connections stream readings with acks, each
 * gets a final ack for exactly what it sent, and the store holds each reading once.
 */
final class ExactlyOnce {

    /** Opens a client of the server under test (plaintext or TLS). */
    @FunctionalInterface
    interface Connector {
        TestClient connect() throws Exception;
    }

    private ExactlyOnce() {
    }

    static void check(RunningServeur server, Connector connector, int connections, int perConnection)
            throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(connections);
        try {
            List<Future<List<Reply>>> results = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                String id = "capteur_" + c;
                results.add(clients.submit(() -> {
                    try (var client = connector.connect()) {
                        client.requestAcks();
                        var text = new StringBuilder();
                        for (int i = 0; i < perConnection; i++) {
                            text.append(new Reading(id, i % 40, 1_764_000_000_000L + i).toJson());
                        }
                        client.send(text.toString());
                        return client.finish();
                    }
                }));
            }
            for (Future<List<Reply>> result : results) {
                assertThat(result.get()).last().isEqualTo(new Reply.Ack(perConnection + 1));
                assertThat(result.get()).allMatch(r -> r instanceof Reply.Ack);
            }
        } finally {
            clients.shutdownNow();
        }
        storedOnce(server, connections, perConnection);
    }

    /** The store holds {@code perConnection} readings of each of {@code connections} sensors, each stored once. */
    static void storedOnce(RunningServeur server, int connections, int perConnection) {
        // The table's key merges a reading stored twice into one row, so the rows alone cannot show it: the
        // counters can.
        assertThat(server.metric("serveur_readings_stored_total")).isEqualTo((double) connections * perConnection);
        assertThat(server.metric("serveur_readings_duplicate_total")).isZero();
        assertThat(server.rows()).isEqualTo((long) connections * perConnection);
        assertThat(Probe.number(server.store, "SELECT count(DISTINCT capteur_id) FROM mesures")).isEqualTo(connections);
        assertThat(Probe.number(server.store, "SELECT count(*) FROM (SELECT capteur_id FROM mesures"
                + " GROUP BY capteur_id HAVING count(*) <> " + perConnection + ")"))
                .as("sensors without exactly %d rows", perConnection).isZero();
    }
}
