package fr.mesures.serveur;

import static fr.mesures.serveur.TestClient.errorsIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.protocole.Reading;
import fr.mesures.protocole.Reply;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The protocol end to end: real sockets on loopback, a real SQLite file. */
@Timeout(120)
class IngestTest {

    @TempDir
    Path dir;
    RunningServeur server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A reading as protocole writes it, the form the sensor client sends. */
    private static String reading(String id, double temperature, long timestamp) {
        return new Reading(id, temperature, timestamp).toJson();
    }

    @Test
    void hundredConnectionsOfAThousandReadingsEachAreStoredExactlyOnce() throws Exception {
        server = RunningServeur.sqlite(dir);
        int connections = 100;
        int perConnection = 1_000;
        ExecutorService clients = Executors.newFixedThreadPool(connections);
        try {
            List<Future<List<Reply>>> results = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                String id = "capteur_" + c;
                results.add(clients.submit(() -> {
                    try (var client = server.connect()) {
                        client.requestAcks();
                        var text = new StringBuilder();
                        for (int i = 0; i < perConnection; i++) {
                            text.append(reading(id, i % 40, 1_764_000_000_000L + i));
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

    @Test
    void badInputCostsOnlyItsOwnValueAndEachReasonIsCounted() throws Exception {
        server = RunningServeur.start(dir.resolve("mesures.db"), "sqlite:", b -> b.maxMessageBytes(1024));
        var stream = new ByteArrayOutputStream();
        List<String> expected = new ArrayList<>();
        // value 1: the acks request
        write(stream, "{\"acks\": true}\n");
        write(stream, reading("good", 1, 1));                                                  // 2
        write(stream, "{\"capteur_id\": \"x\", \"temperature\": }\n");                         // 3
        expected.add("3:0:malformed JSON");
        write(stream, reading("good", 2, 2));                                                  // 4
        write(stream, "{\"capteur_id\": \"x\", \"temperature\": \"hot\"}\n");                  // 5
        expected.add("5:0:temperature must be a number, got a string");
        write(stream, "this is not json at all\n");                                           // 6
        expected.add("6:0:garbage");
        write(stream, "{\"capteur_id\": \"x\", \"temperature\": 1, \"pad\": \"" + "y".repeat(2000) + "\"}\n"); // 7
        expected.add("7:0:larger than the maximum of 1024 bytes");
        write(stream, "[" + reading("good", 3, 3).trim() + ",{\"capteur_id\":\"x\"}]\n");    // 8
        expected.add("8:2:element 2: temperature is missing");
        write(stream, "{\"capteur_id\": \"x\", \"temperature\": -300}\n");                     // 9
        expected.add("9:0:below absolute zero");
        write(stream, "{\"capteur_id\": \"bad id!\", \"temperature\": 1}\n");                  // 10
        expected.add("10:0:capteur_id may only contain");
        write(stream, "{\"capteur_id\": \"x\", \"temperature\": 1, \"timestamp\": \"noon\"}\n"); // 11
        expected.add("11:0:not an ISO-8601 time");
        write(stream, "{\"temperature\": 1}\n");                                               // 12
        expected.add("12:0:capteur_id is missing");
        stream.write(new byte[] {0, 0, 0, '\n'});                                              // 13
        expected.add("13:0:garbage");
        byte[] badUtf8 = "{\"capteur_id\": \"x\", \"temperature\": 1, \"note\": \"\u00e9\"}\n"
                .getBytes(StandardCharsets.UTF_8);
        badUtf8[badUtf8.length - 4] = (byte) 0xFF;
        stream.write(badUtf8);                                                                 // 14
        expected.add("14:0:malformed JSON");
        write(stream, "{\"capteur_id\": \"x\", \"temperature\": 1e999}\n");                     // 15
        expected.add("15:0:too large to be a finite number");
        write(stream, "{\"capteur_id\": \"x, \"temperature\": 1}\n");                          // 16
        expected.add("16:0:a string is not closed before the end of the line");
        write(stream, reading("good", 4, 4));                                                  // 17
        write(stream, "{\"capteur_id\": \"good\", \"temper");                                  // 18: cut by the end
        expected.add("18:0:in the middle of a value");

        List<Reply> replies;
        try (var client = server.connect()) {
            client.send(stream.toByteArray());
            replies = client.finish();
        }
        List<String> errors = new ArrayList<>();
        for (Reply reply : errorsIn(replies)) {
            var error = (Reply.Error) reply;
            errors.add(error.index() + ":" + error.element() + ":" + error.message());
        }
        assertThat(errors).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            String[] want = expected.get(i).split(":", 3);
            assertThat(errors.get(i)).startsWith(want[0] + ":" + want[1] + ":").contains(want[2]);
        }
        assertThat(replies).last().isEqualTo(new Reply.Ack(18));
        assertThat(server.rows("capteur_id = 'good'")).isEqualTo(4);
        assertThat(server.rows()).isEqualTo(4);

        assertThat(server.metric("serveur_readings_rejected_total", "reason", "malformed_json")).isEqualTo(3);
        assertThat(server.metric("serveur_readings_rejected_total", "reason", "wrong_type")).isEqualTo(1);
        assertThat(server.metric("serveur_readings_rejected_total", "reason", "garbage")).isEqualTo(2);
        assertThat(server.metric("serveur_readings_rejected_total", "reason", "too_large")).isEqualTo(1);
        assertThat(server.metric("serveur_readings_rejected_total", "reason", "missing_field")).isEqualTo(2);
        assertThat(server.metric("serveur_readings_rejected_total", "reason", "out_of_range")).isEqualTo(2);
        assertThat(server.metric("serveur_readings_rejected_total", "reason", "invalid_id")).isEqualTo(1);
        assertThat(server.metric("serveur_readings_rejected_total", "reason", "invalid_timestamp")).isEqualTo(1);
        assertThat(server.metric("serveur_readings_rejected_total", "reason", "truncated")).isEqualTo(1);
        assertThat(server.metric("serveur_readings_stored_total")).isEqualTo(4);
    }

    @Test
    void theConnectionStaysUsableAfterErrors() throws Exception {
        server = RunningServeur.sqlite(dir);
        try (var client = server.connect()) {
            client.requestAcks().send("}}}\n");
            assertThat(errorsIn(client.untilAck(2))).containsExactly(Reply.Error.ofValue(2, 0,
                    "garbage: '}' cannot start a value (a value starts with '{' or '['); skipped to the end of the line"));
            client.send(reading("after", 1, 1));
            assertThat(errorsIn(client.untilAck(3))).isEmpty();
        }
        assertThat(server.rows("capteur_id = 'after'")).isEqualTo(1);
    }

    @Test
    void aDuplicateIsStoredOnceAndAcknowledgedTwice() throws Exception {
        server = RunningServeur.sqlite(dir);
        String same = reading("capteur_1", 21.5, 1_764_000_000_123L);
        try (var first = server.connect(); var second = server.connect()) {
            assertThat(errorsIn(first.requestAcks().send(same).untilAck(2))).isEmpty();
            assertThat(errorsIn(second.requestAcks().send(same).untilAck(2))).isEmpty();
            // The same reading as ISO-8601 text is the same key.
            second.send("{\"capteur_id\":\"capteur_1\",\"temperature\":21.5,\"timestamp\":\"2025-11-24T16:00:00.123Z\"}\n");
            assertThat(errorsIn(second.untilAck(3))).isEmpty();
        }
        assertThat(server.rows()).isEqualTo(1);
        assertThat(server.metric("serveur_readings_duplicate_total")).isEqualTo(2);
        assertThat(server.metric("serveur_readings_stored_total")).isEqualTo(1);
    }

    @Test
    void readingsWithoutTimestampReceivedTogetherAreAllKept() throws Exception {
        server = RunningServeur.sqlite(dir);
        try (var client = server.connect()) {
            client.requestAcks().send("{\"capteur_id\":\"a\",\"temperature\":1}\n".repeat(500));
            assertThat(client.finish()).last().isEqualTo(new Reply.Ack(501));
        }
        assertThat(server.rows("capteur_id = 'a'")).isEqualTo(500);
    }

    @Test
    void anAckMeansTheReadingsItCoversAreInTheDatabase() throws Exception {
        server = RunningServeur.sqlite(dir);
        try (var client = server.connect()) {
            client.requestAcks();
            long sent = 1;
            for (int round = 0; round < 50; round++) {
                var text = new StringBuilder();
                for (int i = 0; i < 200; i++) {
                    text.append(reading("acked", 1, sent));
                    sent++;
                }
                client.send(text.toString());
                // Check every ack as it arrives, not only the last: each must already be true in the database.
                long acked = 0;
                while (acked < sent) {
                    Reply reply = client.next();
                    assertThat(reply).as("the reply after ack %d of %d values", acked, sent)
                            .isInstanceOf(Reply.Ack.class);
                    acked = ((Reply.Ack) reply).count();
                    assertThat(server.rows("capteur_id = 'acked'")).isGreaterThanOrEqualTo(acked - 1);
                }
                assertThat(acked).as("the last ack of round %d", round).isEqualTo(sent);
            }
        }
    }

    @Test
    void errorLinesAClientDoesNotReadAreCountedNotQueued() throws Exception {
        server = RunningServeur.sqlite(dir);
        int bad = 50_000;
        List<Reply> replies;
        try (var client = TestClient.connectWithReceiveBuffer(server.port(), 4096)) {
            client.requestAcks().send("x\n".repeat(bad));
            // Not reading while the server works through 50,000 errors (about 6 MB of error lines).
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> server.metric("serveur_readings_rejected_total", "reason", "garbage") == bad);
            replies = client.finish();
        }
        long sent = replies.stream().filter(r -> r instanceof Reply.Error e && e.index() > 0).count();
        long dropped = replies.stream().filter(r -> r instanceof Reply.Error e && e.dropped() > 0)
                .mapToLong(r -> ((Reply.Error) r).dropped()).sum();
        assertThat(dropped).isPositive();
        assertThat(sent + dropped).isEqualTo(bad);
        assertThat(replies).last().isEqualTo(new Reply.Ack(bad + 1));
        assertThat(server.metric("serveur_replies_dropped_total")).isEqualTo(dropped);
    }

    @Test
    void theFileStoreHoldsALinePerReadingWhenTheAckArrives() throws Exception {
        Path file = dir.resolve("donnees.txt");
        server = RunningServeur.start(file, "file:", b -> b);
        try (var client = server.connect()) {
            client.requestAcks();
            for (int i = 1; i <= 20; i++) {
                client.send(reading("fichier", i, i) + reading("fichier", i, i));
                client.untilAck(2L * i + 1);
                assertThat(java.nio.file.Files.readAllLines(file)).hasSize(i)
                        .last().asString().startsWith("{\"capteur_id\":\"fichier\",\"temperature\":" + (double) i);
            }
        }
    }

    @Test
    void extraConnectionsAreToldAndClosedAndTheLimitRecovers() throws Exception {
        server = RunningServeur.start(dir.resolve("mesures.db"), "sqlite:", b -> b.maxConnections(5));
        List<TestClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                held.add(server.connect());
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> server.serveur.activeConnections() == 5);
            try (var extra = server.connect()) {
                Reply refused = extra.next();
                assertThat(refused).isInstanceOf(Reply.Error.class);
                assertThat(((Reply.Error) refused).message()).contains("limit of 5 connections");
                assertThat(extra.next()).isNull();
            }
            held.remove(0).close();
            await().atMost(Duration.ofSeconds(5)).until(() -> server.serveur.activeConnections() == 4);
            try (var again = server.connect()) {
                again.requestAcks().send(reading("again", 1, 1));
                assertThat(errorsIn(again.untilAck(2))).isEmpty();
            }
            // The held connections were never disturbed.
            held.get(0).requestAcks().send(reading("held", 1, 1));
            assertThat(errorsIn(held.get(0).untilAck(2))).isEmpty();
        } finally {
            for (TestClient client : held) {
                client.close();
            }
        }
        assertThat(server.metric("serveur_connections_refused_total")).isEqualTo(1);
    }

    @Test
    void aSilentConnectionIsClosedAfterTheIdleTimeoutAndABusyOneIsNot() throws Exception {
        server = RunningServeur.start(dir.resolve("mesures.db"), "sqlite:",
                b -> b.idleTimeout(Duration.ofMillis(500)));
        try (var silent = server.connect(); var busy = server.connect()) {
            busy.requestAcks();
            long start = System.nanoTime();
            for (int i = 1; i <= 12; i++) {
                busy.send(reading("busy", 1, i));
                assertThat(busy.untilAck(i + 1)).last().isEqualTo(new Reply.Ack(i + 1));
                Thread.sleep(100); // the client's own pace, well under the idle timeout
            }
            Reply notice = silent.next();
            assertThat(((Reply.Error) notice).message()).contains("no data for");
            assertThat(silent.next()).isNull();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(500));
            busy.send(reading("busy", 1, 13));
            assertThat(busy.untilAck(14)).last().isEqualTo(new Reply.Ack(14));
        }
        assertThat(server.metric("serveur_connections_idle_closed_total")).isEqualTo(1);
    }

    @Test
    void closeCommitsAndAcknowledgesEverythingReceived() throws Exception {
        server = RunningServeur.sqlite(dir);
        var client = server.connect();
        client.requestAcks();
        var text = new StringBuilder();
        for (int i = 0; i < 20_000; i++) {
            text.append(reading("closing", 1, i));
        }
        client.send(text.toString());
        await().atMost(Duration.ofSeconds(10)).until(() -> server.rows() > 0);
        server.close();
        long lastAck = 0;
        Reply reply;
        while ((reply = client.next()) != null) {
            if (reply instanceof Reply.Ack ack) {
                lastAck = ack.count();
            }
        }
        client.close();
        // Every value the server received was stored and acknowledged before it closed the connection.
        assertThat(lastAck).isGreaterThan(1);
        assertThat(server.rows()).isEqualTo(lastAck - 1);
        server = null;
    }

    private static void write(ByteArrayOutputStream stream, String text) {
        stream.writeBytes(text.getBytes(StandardCharsets.UTF_8));
    }
}
