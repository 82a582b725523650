package fr.mesures.serveur;

import static fr.mesures.serveur.TestClient.errorsIn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.protocole.Reading;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.Reply;
import fr.mesures.serveur.protocol.Replies;
import fr.mesures.serveur.storage.MesureStore;
import fr.mesures.serveur.storage.ReadingBlock;
import fr.mesures.serveur.storage.StoreException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
        ExactlyOnce.check(server, server::connect, 100, 1_000);
    }

    /** A value the server must reject: the batch element it names (0: the value), the reason, a phrase said. */
    private record Bad(byte[] bytes, int element, RejectReason reason, String says) {
        Bad(String text, int element, RejectReason reason, String says) {
            this(text.getBytes(StandardCharsets.UTF_8), element, reason, says);
        }
    }

    @Test
    void badInputCostsOnlyItsOwnValueAndEachReasonIsCounted() throws Exception {
        server = RunningServeur.start(dir.resolve("mesures.db"), "sqlite:", b -> b.maxMessageBytes(1024));
        byte[] badUtf8 = "{\"capteur_id\": \"x\", \"temperature\": 1, \"note\": \"\u00e9\"}\n"
                .getBytes(StandardCharsets.UTF_8);
        badUtf8[badUtf8.length - 4] = (byte) 0xFF;
        // The object is one level, so 64 arrays inside it nest 65 deep, one more than the decoder allows.
        String tooDeep = "{\"capteur_id\": \"x\", \"temperature\": 1, \"deep\": "
                + "[".repeat(64) + "]".repeat(64) + "}\n";
        List<Bad> bad = List.of(
                new Bad("{\"capteur_id\": \"x\", \"temperature\": }\n", 0, RejectReason.MALFORMED_JSON,
                        "malformed JSON"),
                new Bad("{\"capteur_id\": \"x\", \"temperature\": \"hot\"}\n", 0, RejectReason.WRONG_TYPE,
                        "temperature must be a number, got a string"),
                new Bad("this is not json at all\n", 0, RejectReason.GARBAGE, "garbage"),
                new Bad("{\"capteur_id\": \"x\", \"temperature\": 1, \"pad\": \"" + "y".repeat(2000) + "\"}\n", 0,
                        RejectReason.TOO_LARGE, "larger than the maximum of 1024 bytes"),
                // Element 1 of each batch is a good reading: only element 2 is lost.
                new Bad("[" + reading("batch", 1, 1).trim() + ",{\"capteur_id\":\"x\"}]\n", 2,
                        RejectReason.MISSING_FIELD, "element 2: temperature is missing"),
                new Bad("[" + reading("batch", 2, 2).trim() + ",\"x\"]\n", 2, RejectReason.NOT_A_READING,
                        "element 2 must be a JSON object (a reading), got a string"),
                new Bad("{\"capteur_id\": \"x\", \"temperature\": -300}\n", 0, RejectReason.OUT_OF_RANGE,
                        "below absolute zero"),
                new Bad("{\"capteur_id\": \"bad id!\", \"temperature\": 1}\n", 0, RejectReason.INVALID_ID,
                        "capteur_id may only contain"),
                new Bad("{\"capteur_id\": \"x\", \"temperature\": 1, \"timestamp\": \"noon\"}\n", 0,
                        RejectReason.INVALID_TIMESTAMP, "not an ISO-8601 time"),
                new Bad("{\"temperature\": 1}\n", 0, RejectReason.MISSING_FIELD, "capteur_id is missing"),
                new Bad(new byte[] {0, 0, 0, '\n'}, 0, RejectReason.GARBAGE, "garbage"),
                new Bad(badUtf8, 0, RejectReason.MALFORMED_JSON, "malformed JSON"),
                new Bad("{\"capteur_id\": \"x\", \"temperature\": 1e999}\n", 0, RejectReason.OUT_OF_RANGE,
                        "too large to be a finite number"),
                new Bad("{\"capteur_id\": \"x, \"temperature\": 1}\n", 0, RejectReason.MALFORMED_JSON,
                        "a string is not closed before the end of the line"),
                new Bad("{\"capteur_id\": \"x\", \"temperature\": 1, \"temperature\": 2}\n", 0,
                        RejectReason.MALFORMED_JSON, "the field temperature is given twice"),
                new Bad(tooDeep, 0, RejectReason.MALFORMED_JSON, "nesting depth"));
        // Cut by the end of the stream, so it can only come last.
        var truncated = new Bad("{\"capteur_id\": \"good\", \"temper", 0, RejectReason.TRUNCATED,
                "in the middle of a value");

        // Value 1 asks for acks; then each bad value, each followed by a good reading, so that a bad value
        // swallowing the next one shows as a missing row. The server keeps at most Replies.MAX_ERROR_LINES error
        // lines for a client (it counts the rest as dropped), so the values go in two halves, the second once the
        // first is acknowledged.
        var firstHalf = new ByteArrayOutputStream();
        var secondHalf = new ByteArrayOutputStream();
        firstHalf.writeBytes(Reply.ACKS_REQUEST.getBytes(StandardCharsets.UTF_8));
        List<String> expected = new ArrayList<>();
        long index = 1;
        long endOfFirstHalf = 0;
        for (int k = 0; k < bad.size(); k++) {
            var stream = k < bad.size() / 2 ? firstHalf : secondHalf;
            stream.writeBytes(bad.get(k).bytes());
            expected.add(++index + ":" + bad.get(k).element());
            stream.writeBytes(reading("good", k, 1_000 + k).getBytes(StandardCharsets.UTF_8));
            index++;
            if (stream == firstHalf) {
                endOfFirstHalf = index;
            }
        }
        secondHalf.writeBytes(truncated.bytes());
        expected.add(++index + ":0");
        List<Bad> rejected = new ArrayList<>(bad);
        rejected.add(truncated);
        assertThat(bad.size() - bad.size() / 2 + 1).as("error lines in the second half")
                .isLessThanOrEqualTo(Replies.MAX_ERROR_LINES);

        List<Reply> replies;
        try (var client = server.connect()) {
            replies = new ArrayList<>(client.send(firstHalf.toByteArray()).untilAck(endOfFirstHalf));
            client.send(secondHalf.toByteArray());
            replies.addAll(client.finish());
        }
        List<Reply> errors = errorsIn(replies);
        assertThat(errors).extracting(r -> ((Reply.Error) r).index() + ":" + ((Reply.Error) r).element())
                .as("index:element of each error line").containsExactlyElementsOf(expected);
        for (int i = 0; i < rejected.size(); i++) {
            assertThat(((Reply.Error) errors.get(i)).message()).as("error line %d", i + 1)
                    .contains(rejected.get(i).says());
        }
        assertThat(replies).last().isEqualTo(new Reply.Ack(index));
        assertThat(server.rows("capteur_id = 'good'")).isEqualTo(bad.size());
        assertThat(server.rows("capteur_id = 'batch'")).isEqualTo(2);
        assertThat(server.rows()).isEqualTo(bad.size() + 2);

        Map<String, Double> counted = new TreeMap<>();
        Map<String, Double> wanted = new TreeMap<>();
        for (RejectReason reason : RejectReason.values()) {
            counted.put(reason.label(), server.metric("serveur_readings_rejected_total", "reason", reason.label()));
            wanted.put(reason.label(), (double) rejected.stream().filter(b -> b.reason() == reason).count());
        }
        assertThat(counted).as("rejections by reason").isEqualTo(wanted);
        assertThat(server.metric("serveur_readings_stored_total")).isEqualTo(bad.size() + 2);
    }

    @Test
    void theConnectionStaysUsableAfterErrors() throws Exception {
        server = RunningServeur.sqlite(dir);
        try (var client = server.connect()) {
            client.requestAcks().send("}}}\n");
            assertThat(errorsIn(client.untilAck(2))).containsExactly(Reply.Error.ofValue(2, 0, RejectReason.GARBAGE,
                    "garbage: '}' cannot start a value (a value starts with '{' or '['); skipped to the end of the line"));
            client.send(reading("after", 1, 1));
            assertThat(errorsIn(client.untilAck(3))).isEmpty();
        }
        assertThat(server.rows("capteur_id = 'after'")).isEqualTo(1);
    }

    @Test
    void eachReadIsTimedFromItsRoundToItsAckOncePerConnection() throws Exception {
        server = RunningServeur.sqlite(dir);
        long started = System.nanoTime();
        try (var client = server.connect()) {
            // The acks request and a reading in one write, then 19 readings each waiting for the ack of the last:
            // 20 reads, whatever the number of values in each.
            client.send(Reply.ACKS_REQUEST + "{\"capteur_id\":\"a\",\"temperature\":1}\n").untilAck(2);
            for (int i = 0; i < 19; i++) {
                client.send("{\"capteur_id\":\"a\",\"temperature\":" + i + "}\n").untilAck(i + 3);
            }
        }
        double elapsed = (System.nanoTime() - started) / 1e9;
        assertThat(server.metric("serveur_ack_latency_seconds_count")).isEqualTo(20);
        assertThat(server.metric("serveur_ack_latency_seconds_bucket", "le", "+Inf")).isEqualTo(20);
        assertThat(server.metric("serveur_ack_latency_seconds_sum")).isPositive().isLessThan(elapsed);
        assertThat(server.metric("serveur_ack_latency_seconds_max")).isPositive().isLessThan(elapsed);
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

    /**
     * How long the test watches for an ack while a commit is held. A server that acknowledged before committing
     * would send that ack as soon as the batch reached the writer, well inside this; the window only bounds how
     * long the test looks, nothing waits on it to be in step.
     */
    private static final Duration NO_ACK_WINDOW = Duration.ofMillis(300);

    @Test
    void anAckMeansTheReadingsItCoversAreInTheDatabase() throws Exception {
        // Every commit is held inside the store's write() until the test releases it, so the test can look at
        // the socket while the readings are, for certain, not yet committed: counting rows after an ack arrived
        // could not tell an ack sent after its commit from one sent just before.
        var commits = new HeldCommits();
        server = RunningServeur.sqliteWrapped(dir, commits::holding);
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try (var client = server.connect()) {
            // The client's replies, read by a thread of its own, so that "no reply yet" is a poll that times out
            // and never leaves a line half read.
            BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
            reader.submit(() -> {
                Reply reply;
                while ((reply = client.next()) != null) {
                    replies.add(reply);
                }
                return null;
            });
            client.requestAcks();
            // Value 1 holds no reading: it is acknowledged without a commit.
            assertThat(replies.poll(20, TimeUnit.SECONDS)).isEqualTo(new Reply.Ack(1));
            long acked = 1;
            long sent = 1; // reading t (timestamp t) is value t + 1
            int held = 0;
            for (int round = 0; round < 10; round++) {
                var text = new StringBuilder();
                for (int i = 0; i < 200; i++) {
                    text.append(reading("acked", 1, sent));
                    sent++;
                }
                client.send(text.toString());
                while (acked < sent) {
                    HeldCommits.Commit commit = commits.next();
                    held++;
                    assertThat(server.rows("capteur_id = 'acked' AND timestamp >= " + commit.first()))
                            .as("rows of a commit not yet released").isZero();
                    // While it is held, acks may come for the values before it, never for its readings.
                    Reply early;
                    while ((early = replies.poll(NO_ACK_WINDOW.toMillis(), TimeUnit.MILLISECONDS)) != null) {
                        assertThat(early).as("a reply while readings %d..%d are not committed", commit.first(),
                                commit.last()).isInstanceOf(Reply.Ack.class);
                        assertThat(((Reply.Ack) early).count()).as("ack received while readings %d..%d (values "
                                + "%d..%d) are not committed", commit.first(), commit.last(), commit.first() + 1,
                                commit.last() + 1).isLessThanOrEqualTo(commit.first());
                        acked = ((Reply.Ack) early).count();
                    }
                    commit.release();
                    // Released: the ack covering its last reading must come, and each ack must be true in the
                    // database when it arrives.
                    while (acked < commit.last() + 1) {
                        Reply reply = replies.poll(20, TimeUnit.SECONDS);
                        assertThat(reply).as("the reply after ack %d, once readings %d..%d are committed", acked,
                                commit.first(), commit.last()).isInstanceOf(Reply.Ack.class);
                        acked = ((Reply.Ack) reply).count();
                        assertThat(server.rows("capteur_id = 'acked'")).isGreaterThanOrEqualTo(acked - 1);
                    }
                }
                assertThat(acked).as("the last ack of round %d", round).isEqualTo(sent);
            }
            assertThat(held).as("commits held").isGreaterThanOrEqualTo(1);
            assertThat(server.rows("capteur_id = 'acked'")).isEqualTo(sent - 1);
        } finally {
            commits.stopHolding();
            reader.shutdownNow();
        }
    }

    /**
     * A store whose every commit waits inside {@link MesureStore#write} (before anything is written) until the test
     * releases it: the writer thread is then, for certain, in the middle of a commit that has not happened.
     */
    private static final class HeldCommits {

        /** One write() call in progress: the range of timestamps it carries, and the latch that lets it go on. */
        record Commit(long first, long last, CountDownLatch go) {
            void release() {
                go.countDown();
            }
        }

        private final BlockingQueue<Commit> entered = new LinkedBlockingQueue<>();
        private volatile boolean holding = true;

        MesureStore holding(MesureStore store) {
            return new MesureStore() {
                @Override
                public int write(List<ReadingBlock> blocks) throws StoreException {
                    if (holding) {
                        hold(blocks);
                    }
                    return store.write(blocks);
                }

                @Override
                public String describe() {
                    return store.describe();
                }

                @Override
                public void close() {
                    store.close();
                }
            };
        }

        private void hold(List<ReadingBlock> blocks) throws StoreException {
            long first = Long.MAX_VALUE;
            long last = Long.MIN_VALUE;
            for (ReadingBlock block : blocks) {
                for (int i = 0; i < block.size(); i++) {
                    first = Math.min(first, block.timestamp(i));
                    last = Math.max(last, block.timestamp(i));
                }
            }
            Commit commit = new Commit(first, last, new CountDownLatch(1));
            entered.add(commit);
            try {
                // Bounded so that a failed test cannot leave the writer (and the server's close) stuck forever.
                if (!commit.go().await(60, TimeUnit.SECONDS)) {
                    throw new StoreException("the test never released this commit");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreException("interrupted while held", e);
            }
        }

        /** The next commit the writer started, held until released. */
        Commit next() throws InterruptedException {
            Commit commit = entered.poll(20, TimeUnit.SECONDS);
            assertThat(commit).as("a commit started by the writer").isNotNull();
            return commit;
        }

        /** Lets every commit through, held now or later: the server can then stop normally. */
        void stopHolding() {
            holding = false;
            entered.forEach(Commit::release);
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

    /** A reply and when it arrived ({@link System#nanoTime}). */
    private record Arrival(Reply reply, long nanos) {
    }

    @Test
    void aSilentConnectionIsClosedAfterTheIdleTimeoutAndABusyOneIsNot() throws Exception {
        server = RunningServeur.start(dir.resolve("mesures.db"), "sqlite:",
                b -> b.idleTimeout(Duration.ofMillis(500)));
        ExecutorService reader = Executors.newSingleThreadExecutor();
        // Taken before the connect: the server's idle clock cannot start earlier, so a notice in time is at least
        // 500 ms after this.
        long beforeSilentConnect = System.nanoTime();
        try (var silent = server.connect(); var busy = server.connect()) {
            Future<Arrival> notice = reader.submit(() -> new Arrival(silent.next(), System.nanoTime()));
            busy.requestAcks();
            long values = 1;
            // The busy client sends every 100 ms, well under the timeout, and does not wait for its acks meanwhile:
            // each is an fsync, which a loaded disk can make longer than the timeout itself.
            while (!notice.isDone()) {
                busy.send(reading("busy", 1, values++));
                try {
                    notice.get(100, TimeUnit.MILLISECONDS);
                } catch (TimeoutException stillSilent) {
                    // the notice has not come yet: send again
                }
            }
            Arrival arrival = notice.get();
            assertThat(arrival.reply()).isInstanceOf(Reply.Error.class);
            assertThat(((Reply.Error) arrival.reply()).message()).contains("no data for");
            assertThat(Duration.ofNanos(arrival.nanos() - beforeSilentConnect)).as("silence before the notice")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(500));
            assertThat(silent.next()).isNull();
            // The busy connection is still open: all it sent, and one more reading, are acknowledged.
            busy.send(reading("busy", 1, values++));
            List<Reply> replies = busy.untilAck(values);
            assertThat(errorsIn(replies)).isEmpty();
            assertThat(replies).last().isEqualTo(new Reply.Ack(values));
        } finally {
            reader.shutdownNow();
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

    /**
     * A reading sent again with its key and temperature is a resend: acknowledged, stored once. With another
     * temperature it is a conflict: rejected with both values, the stored one kept, and the sensor's gauge not
     * moved. The same on both stores.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"sqlite:", "file:"})
    void aResendIsADuplicateAndAnotherTemperatureForTheSameKeyIsAConflict(String kind) throws Exception {
        server = RunningServeur.start(dir.resolve(kind.equals("file:") ? "donnees.txt" : "mesures.db"), kind,
                b -> b);
        long t = 1_764_000_000_000L;
        try (var client = server.connect()) {
            client.requestAcks();
            assertThat(errorsIn(client.send(reading("salon", 19.5, t)).untilAck(2))).isEmpty();
            assertThat(errorsIn(client.send(reading("salon", 19.5, t)).untilAck(3))).as("a resend").isEmpty();
            List<Reply> conflict = errorsIn(client.send(reading("salon", 30.0, t)).untilAck(4));
            assertThat(conflict).singleElement().isInstanceOfSatisfying(Reply.Error.class, e -> {
                assertThat(e.index()).isEqualTo(4);
                assertThat(e.reason()).isEqualTo("conflict");
                assertThat(e.message()).contains("salon", "2025-11-24T16:00:00.000Z", "19.5", "30.0");
            });
            String batch = "[" + reading("salon", 19.5, t).strip() + "," + reading("salon", 25.0, t).strip() + ","
                    + reading("cuisine", 21.0, t).strip() + "]\n";
            List<Reply> inBatch = errorsIn(client.send(batch).untilAck(5));
            assertThat(inBatch).singleElement().isInstanceOfSatisfying(Reply.Error.class, e -> {
                assertThat(e.index()).isEqualTo(5);
                assertThat(e.element()).isEqualTo(2);
                assertThat(e.reason()).isEqualTo("conflict");
            });
            List<Reply> future = errorsIn(client.send(reading("salon", 19.5, System.currentTimeMillis()
                    + Duration.ofHours(2).toMillis())).untilAck(6));
            assertThat(future).singleElement().isInstanceOfSatisfying(Reply.Error.class, e -> {
                assertThat(e.reason()).isEqualTo("future");
                assertThat(e.message()).contains("ahead of the server's clock");
            });
        }
        assertThat(server.metric("serveur_readings_stored_total")).isEqualTo(2);
        assertThat(server.metric("serveur_readings_duplicate_total")).isEqualTo(2);
        assertThat(server.metric("serveur_readings_rejected_total", "reason", "conflict")).isEqualTo(2);
        assertThat(server.metric("serveur_readings_rejected_total", "reason", "future")).isEqualTo(1);
        assertThat(server.metric("capteur_temperature_celsius", "capteur_id", "salon")).as("the stored value")
                .isEqualTo(19.5);
        assertThat(server.metric("capteur_temperature_celsius", "capteur_id", "cuisine")).isEqualTo(21.0);
    }

    /**
     * With a budget far smaller than what the clients send at once, the cut stops mid-read again and again and
     * the rest waits with its connection: every value must still be read, stored and acknowledged, including those
     * of clients that wait for their acks before sending more (their sockets have nothing new to say, so the
     * server must come back to what it kept on its own).
     */
    @Test
    void aSmallBudgetSlowsClientsDownButEveryValueIsStoredAndAcknowledged() throws Exception {
        Path db = dir.resolve("mesures.db");
        var settings = ServeurSettings.builder().bind("127.0.0.1").port(0).httpPort(-1).store("sqlite:" + db).build();
        var serveur = new ServeurTCP(settings, java.time.Clock.systemUTC(),
                fr.mesures.serveur.storage.SqliteStore.open(db, fr.mesures.serveur.storage.SqliteStore.Options.DEFAULT),
                fr.mesures.serveur.ingest.InjectedFault.NONE,
                new fr.mesures.serveur.memory.MemoryBudget(256 * 1024, 1024 * 1024, 64 * 1024));
        serveur.start();
        int connections = 20;
        int perConnection = 5_000;
        ExecutorService clients = Executors.newFixedThreadPool(connections);
        try {
            List<Future<List<Reply>>> replies = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                String id = "petit_" + c;
                replies.add(clients.submit(() -> {
                    try (var client = TestClient.connect(serveur.port())) {
                        var text = new StringBuilder(Reply.ACKS_REQUEST);
                        for (int i = 0; i < perConnection; i++) {
                            text.append(reading(id, 20, 1_000 + i));
                        }
                        // All of it in one write, then nothing more until the last ack.
                        return client.send(text.toString()).untilAck(perConnection + 1);
                    }
                }));
            }
            for (Future<List<Reply>> r : replies) {
                assertThat(errorsIn(r.get(60, TimeUnit.SECONDS))).isEmpty();
            }
        } finally {
            clients.shutdownNow();
            serveur.close();
        }
        assertThat(Probe.rows(db, "capteur_id LIKE 'petit_%'")).isEqualTo((long) connections * perConnection);
    }
}
