package fr.mesures.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.Reply;
import fr.mesures.systemtests.support.AckedStreams;
import fr.mesures.systemtests.support.Database;
import fr.mesures.systemtests.support.Flood;
import fr.mesures.systemtests.support.MetricWatch;
import fr.mesures.systemtests.support.Metrics;
import fr.mesures.systemtests.support.Probes;
import fr.mesures.systemtests.support.RawClient;
import fr.mesures.systemtests.support.Results;
import fr.mesures.systemtests.support.ServeurProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * No client, however hostile, can make the server's memory grow past a bound (issue: hardening the server
 * against hostile clients). Each test starts its own server with a 128 MiB heap that exits on OutOfMemoryError,
 * so that a test's outcome is its own attack's and not the remains of the one before, and runs one attack while
 * well-behaved clients send a reading every 20 ms with acks. During each attack the live heap stays within the
 * memory model's bound of the quiet one (the budgets the server reports, plus 2 KiB a connection) and the process
 * never dies; after it, the heap after a full GC
 * is back near the quiet baseline, every reading of the well-behaved clients is acknowledged and stored with a
 * p99 latency under a generous bound, a new connection is served, and the metrics count exactly what was
 * refused.
 *
 * <p>Values are cheap to send and may be costly to hold: two bytes of {@code {}} make a rejection, an error
 * line, a frame; an unfinished value is kept until it ends; an error line may echo what the client sent. The
 * attacks aim at each of these costs.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class MemoryBoundIT {

    private static final String ACKS = Reply.ACKS_REQUEST;
    private static final int PROBES = 8;
    /** Generous: the machine has 2 cores shared by the server, the attackers and the probes. */
    private static final long P99_BOUND_MICROS = 2_000_000;
    /**
     * For the flood of empty batches, the one that keeps the pipeline busiest (8 million values a second, each cut,
     * decoded and acknowledged): the probes' readings wait behind the flood's batches, p99 0.3 to 2.4 s measured in
     * CI runs, 3.2 s beside a benchmark. Fair shares between connections are issue 12's; this bound only says the
     * probes are served, not starved.
     */
    private static final long EMPTY_BATCHES_P99_BOUND_MICROS = 5_000_000;
    /** How far above its quiet level the heap may be after a full GC once an attack is over. */
    private static final long HEAP_SLACK = 32L << 20;
    /**
     * What a connection may cost beyond the budgets: its objects and its reserve (docs/architecture.md, "Memory").
     * The live heap in the middle of an attack may exceed the quiet one by the budgets the server reports
     * ({@code serveur_memory_inflight_limit_bytes}, {@code serveur_memory_held_limit_bytes}) and this much per open
     * connection, no more: whatever a value, a rejection or a connection costs beyond what the model charges, an
     * attack multiplies it past this.
     */
    private static final long PER_CONNECTION = 2048;
    /** The most one value of 64 KiB can cost in flight, at its worst (an array of the shortest readings). */
    private static final long ONE_VALUE = 512L << 10;
    /** The longest error line the server may send, newline excluded (a fixed maximum, whatever the client sent). */
    static final int MAX_ERROR_LINE_BYTES = 1024;
    /** The longest line the server may write to its log, whatever the client sent. */
    static final int MAX_LOG_LINE_CHARS = 2048;
    /** Text a client puts after an escaped newline, hoping the log shows it as a line of its own. */
    private static final String FORGED = "2026-01-01 FORGED";
    private static final int FLOODERS = 8;
    private static final Duration FLOOD_TIME = Duration.ofSeconds(4);
    private static final Duration FLOOD_TIMEOUT = Duration.ofSeconds(90);
    /** The server's default --max-message-bytes. */
    private static final int MAX_MESSAGE_BYTES = 64 * 1024;
    /** Connections holding an unfinished value of almost MAX_MESSAGE_BYTES: 3,000 of them hold 192 MB. */
    private static final int OPEN_VALUES = 3_000;
    private static final Pattern LOG_LINE_START = Pattern.compile("(?m)^" + Pattern.quote(FORGED));

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    private ServeurProcess server;
    private Database database;
    private final ObjectMapper json = new ObjectMapper();

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    // ------------------------------------------------------------------------------------------ floods

    @Test
    void aFloodOfEmptyObjectsIsCountedAndCostsNoMemory() throws Exception {
        // "{}{}{}...": two bytes per value, each rejected with an error line (missing_field).
        flood("empty_objects", Flood.Plan.of("{}", 1), Map.of(RejectReason.MISSING_FIELD, 1L), 1);
    }

    @Test
    void aFloodOfEmptyBatchesCostsNoMemory() throws Exception {
        // "[][][]...": two bytes per value; an empty batch holds no reading and no invalid element, so the protocol
        // has nothing to reject and nothing to store: each value is only acknowledged.
        flood("empty_batches", Flood.Plan.of("[]", 1), Map.of(), 0, EMPTY_BATCHES_P99_BOUND_MICROS);
    }

    @Test
    void aFloodOfGarbageLinesIsCountedAndCostsNoMemory() throws Exception {
        // "x\n": two bytes per value, each a run of garbage (its bytes never reach a worker).
        flood("garbage_lines", Flood.Plan.of("x\n", 1), Map.of(RejectReason.GARBAGE, 1L), 1);
    }

    @Test
    void aFloodOfOneByteValuesIsCountedAndCostsNoMemory() throws Exception {
        // The shortest values the scanner cuts other than "{}" and "x\n": a bare number and a closing bracket on
        // their line (garbage, two bytes each), and a string broken by its line break (malformed JSON, three
        // bytes: the value ends at the line break). None of them carries bytes a worker would decode.
        flood("one_byte_values", Flood.Plan.of("1\n}\n{\"\n", 3),
                Map.of(RejectReason.GARBAGE, 2L, RejectReason.MALFORMED_JSON, 1L), 3);
    }

    @Test
    void aFloodOfValuesThatFailValidationIsCountedAndCostsNoMemory() throws Exception {
        // Valid JSON that validation rejects: one of each kind a short value can carry, a timestamp of 4,000
        // characters (what the error says about it must stay short), and a batch of 1,000 empty readings, 3 bytes
        // per rejected element, each with an error line of its own.
        String unit = "{\"capteur_id\":\"a\",\"temperature\":\"x\"}\n"
                + "{\"capteur_id\":\"a b\",\"temperature\":1}\n"
                + "{\"capteur_id\":\"a\",\"temperature\":-300}\n"
                + "{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":\"x\"}\n"
                + "{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":\"2025-11-24T12:00:00." + "9".repeat(4000)
                + "Z\"}\n"
                + "{\"capteur_id\":\"a\"}\n"
                + "[" + "{},".repeat(999) + "{}]\n";
        flood("invalid_values", Flood.Plan.of(unit, 7),
                Map.of(RejectReason.WRONG_TYPE, 1L, RejectReason.INVALID_ID, 1L, RejectReason.OUT_OF_RANGE, 1L,
                        RejectReason.INVALID_TIMESTAMP, 2L, RejectReason.MISSING_FIELD, 1001L), 1006);
    }

    /**
     * {@link #FLOODERS} connections send {@code unit} as fast as the server takes it for {@link #FLOOD_TIME},
     * never reading; then each half-closes and reads its last replies. Every value must be handled (the last ack
     * covers them all), every error line sent or counted as dropped, and the metrics must count each rejection.
     */
    private void flood(String name, Flood.Plan plan, Map<RejectReason, Long> rejectedPerUnit,
            long errorLinesPerUnit) throws Exception {
        flood(name, plan, rejectedPerUnit, errorLinesPerUnit, P99_BOUND_MICROS);
    }

    private void flood(String name, Flood.Plan plan, Map<RejectReason, Long> rejectedPerUnit,
            long errorLinesPerUnit, long p99BoundMicros) throws Exception {
        start();
        Metrics before = server.metrics();
        List<Flood.Outcome> outcomes;
        try (Attack attack = new Attack(name)) {
            Flood flood = plan.connections(FLOODERS).duration(FLOOD_TIME).start(server.port());
            try {
                // 8 MiB received first (millions of small values, far more than the budget holds), then the live
                // heap sampled for as long as the flood lasts: whatever the server keeps per value or per byte
                // shows while values pour in, at one moment or another.
                attack.awaitReceived(before, 8L << 20);
                do {
                    attack.heapUnderAttack("during the flood");
                } while (flood.writing());
                outcomes = flood.await(FLOOD_TIMEOUT);
            } finally {
                flood.abort();
            }
            attack.assertAlive("after the flood");
            attack.end(String.format("%d connections, %s in %.0f s", FLOODERS,
                    describe(outcomes), FLOOD_TIME.toMillis() / 1000.0), p99BoundMicros);
        }
        Metrics after = server.metrics();
        long units = outcomes.stream().mapToLong(Flood.Outcome::units).sum();
        for (int i = 0; i < outcomes.size(); i++) {
            Flood.Outcome o = outcomes.get(i);
            assertThat(o.failure()).as("flood connection %d failed", i).isNull();
            assertThat(o.unreadable()).as("lines that are not replies, flood connection %d", i).isEmpty();
            assertThat(o.lastAck()).as("last ack of flood connection %d: every value handled", i)
                    .isEqualTo(o.values());
            assertThat(o.errorLines() + o.dropped()).as("error lines sent or counted as dropped, connection %d", i)
                    .isEqualTo(o.units() * errorLinesPerUnit);
            assertErrorLines(o.replies(), rejectedPerUnit.keySet());
        }
        assertRejected(before, after, reason -> units * rejectedPerUnit.getOrDefault(reason, 0L));
        long dropped = outcomes.stream().mapToLong(Flood.Outcome::dropped).sum();
        assertThat(dropped(after) - dropped(before)).as("serveur_replies_dropped_total: the dropped counts sent")
                .isEqualTo(dropped);
        if (errorLinesPerUnit > 0) {
            assertThat(dropped).as("error lines dropped for clients that never read").isPositive();
        }
    }

    // ------------------------------------------------------------------------------------------ open values

    @Test
    void thousandsOfValuesThatNeverEndAreNotKeptAndTheirConnectionsTimeOut() throws Exception {
        start("--idle-timeout", "3s");
        Metrics before = server.metrics();
        String opening = "{\"capteur_id\":\"";
        // Each value stays just under the maximum, so the server has no reason to drop it as too large.
        byte[] rest = new byte[MAX_MESSAGE_BYTES - 64 - opening.length()];
        Arrays.fill(rest, (byte) 'a');
        try (Attack attack = new Attack("open_values")) {
            long started = System.nanoTime();
            try (OpenValues open = OpenValues.open(server.port(), OPEN_VALUES, opening)) {
                double openSeconds = (System.nanoTime() - started) / 1e9;
                open.writeToAll(rest, Duration.ofSeconds(10));
                // The server may stop reading some of them (their bytes then wait in the kernel), or close them
                // once idle while a write is pending: what was written is recorded, not required.
                Results.record("memory", String.format(Locale.ROOT, "open_values: %d connections opened in %.1f s, "
                        + "%d MB more written in %.1f s (%d writes cut)", OPEN_VALUES, openSeconds,
                        open.written() >> 20, (System.nanoTime() - started) / 1e9 - openSeconds,
                        open.writeFailures()));
                attack.assertAlive("after " + OPEN_VALUES + " unfinished values were sent");
                attack.heapUnderAttack("while the values are open");
                OpenValues.Ends ends = open.awaitClosedByServer(Duration.ofSeconds(60));
                Results.record("memory", String.format(Locale.ROOT, "open_values: closed by the server after %.1f s: "
                        + "%s", (System.nanoTime() - started) / 1e9, ends));
                assertThat(ends.open()).as("connections the server never closed (idle timeout 3 s)").isZero();
            }
            attack.end(OPEN_VALUES + " unfinished values of " + (MAX_MESSAGE_BYTES - 64) + " bytes");
        }
        // Closed for a value not finished in time (those the server read past their 1 KiB reserve), or for
        // idleness (those it read no further, their bytes waiting in the kernel).
        Metrics after = server.metrics();
        assertThat(after.count("serveur_connections_idle_closed_total")
                - before.count("serveur_connections_idle_closed_total")
                + after.count("serveur_connections_value_timeout_total")
                - before.count("serveur_connections_value_timeout_total"))
                .as("connections closed for idleness or for an unfinished value").isEqualTo(OPEN_VALUES);
    }

    // ------------------------------------------------------------------------------------------ replies pile up

    @Test
    void clientsThatNeverReadCannotMakeTheirRepliesPileUp() throws Exception {
        // A long idle timeout: the replies must still be held for their clients when the heap is measured.
        start("--idle-timeout", "60s");
        Metrics before = server.metrics();
        // Each value's error line may echo its 10,000-character timestamp, escaped: 60 kB per line if it does.
        String echoing = "{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":\"" + "\\u0001".repeat(10_000)
                + "\"}\n";
        int echoConnections = 200;
        // 16 such lines owed to each of 200 clients: up to 190 MB held for clients that never read, in the kernel's
        // send buffers (up to 4 MB a connection on loopback) or in the heap.
        int echoValues = 16;
        Flood.Plan longLines = Flood.Plan.of(echoing, 1).prefix(ACKS, 1).connections(echoConnections)
                .maxUnits(echoValues).duration(Duration.ofSeconds(60)).holdOpen();
        // And more error lines than any buffer holds, short ones, on a few connections.
        Flood.Plan manyLines = Flood.Plan.of("{}", 1).prefix(ACKS, 1).connections(4).duration(FLOOD_TIME)
                .holdOpen();
        List<Flood.Outcome> outcomes = new ArrayList<>();
        try (Attack attack = new Attack("unread_replies")) {
            Flood echoes = longLines.start(server.port());
            Flood many = manyLines.start(server.port());
            try {
                echoes.awaitWritten(Duration.ofSeconds(60));
                many.awaitWritten(Duration.ofSeconds(60));
                if (!echoes.failures().isEmpty() || !many.failures().isEmpty()) {
                    attack.assertStillAlive("while the values were sent");
                }
                assertThat(echoes.failures()).as("connections cut while sending").isEmpty();
                assertThat(many.failures()).as("connections cut while sending").isEmpty();
                // Every value sent has been read and handled (each is rejected): what the clients are owed is
                // complete, and they still have not read a byte of it.
                long echoed = echoes.values() - echoConnections;
                long empty = many.values() - 4;
                attack.awaitCondition("every value handled", () -> {
                    Metrics now = server.metrics();
                    return rejected(now, RejectReason.INVALID_TIMESTAMP)
                            - rejected(before, RejectReason.INVALID_TIMESTAMP) == echoed
                            && rejected(now, RejectReason.MISSING_FIELD)
                            - rejected(before, RejectReason.MISSING_FIELD) == empty;
                }, () -> {
                    Metrics now = server.metrics();
                    return String.format("invalid_timestamp %d of %d, missing_field %d of %d, values in flight %d",
                            rejected(now, RejectReason.INVALID_TIMESTAMP)
                                    - rejected(before, RejectReason.INVALID_TIMESTAMP), echoed,
                            rejected(now, RejectReason.MISSING_FIELD) - rejected(before, RejectReason.MISSING_FIELD),
                            empty, now.count("serveur_queue_readings"));
                });
                attack.heapUnderAttack("while the replies are owed");
                echoes.release();
                many.release();
                outcomes.addAll(echoes.await(FLOOD_TIMEOUT));
                outcomes.addAll(many.await(FLOOD_TIMEOUT));
            } finally {
                echoes.abort();
                many.abort();
            }
            attack.end(String.format("%d connections x %d values whose error line may echo 60 kB, and 4 "
                    + "connections of {}; %s", echoConnections, echoValues, describe(outcomes)));
        }
        Metrics after = server.metrics();
        for (int i = 0; i < outcomes.size(); i++) {
            Flood.Outcome o = outcomes.get(i);
            assertThat(o.failure()).as("connection %d failed", i).isNull();
            assertThat(o.lastAck()).as("last ack of connection %d", i).isEqualTo(o.values());
            assertThat(o.errorLines() + o.dropped()).as("error lines sent or counted as dropped, connection %d", i)
                    .isEqualTo(o.values() - 1);
        }
        long dropped = outcomes.stream().mapToLong(Flood.Outcome::dropped).sum();
        assertThat(dropped).as("error lines dropped for clients that never read").isPositive();
        assertThat(dropped(after) - dropped(before)).as("serveur_replies_dropped_total").isEqualTo(dropped);
    }

    // ------------------------------------------------------------------------------------------ escapes

    @Test
    void invalidFieldsOfMaximalLengthGetShortErrorLinesAndCannotForgeLogLines() throws Exception {
        start();
        String quotes = "\\\"".repeat(30_000); // 60,000 bytes on the wire
        String controls = "\\u0001".repeat(10_000); // 60,000 bytes on the wire
        String forged = "\\n" + FORGED; // an escaped newline, then what would start a line of the log
        Map<String, String> values = new LinkedHashMap<>();
        values.put("{\"capteur_id\":\"" + forged + "\",\"temperature\":1}", "invalid_id");
        values.put("{\"capteur_id\":\"" + quotes + "\",\"temperature\":1}", "invalid_id");
        values.put("{\"capteur_id\":\"" + controls + "\",\"temperature\":1}", "invalid_id");
        values.put("{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":\"" + forged + "\"}", "invalid_timestamp");
        values.put("{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":\"" + quotes + "\"}", "invalid_timestamp");
        values.put("{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":\"" + forged + controls + "\"}",
                "invalid_timestamp");
        values.put("[{\"capteur_id\":\"" + forged + controls + "\",\"temperature\":1}]", "invalid_id");
        try (Attack attack = new Attack("escapes")) {
            List<String> lines;
            try (RawClient c = RawClient.connect(server.port())) {
                c.send(ACKS);
                for (String value : values.keySet()) {
                    assertThat(value.length()).as("a value under the maximum size").isLessThan(MAX_MESSAGE_BYTES);
                    c.send(value + "\n");
                }
                c.send(RawClient.reading("apres_echappements", 7.5, 1));
                long last = values.size() + 2;
                lines = c.rawLinesUntil(line -> ackOf(line) >= last, 60_000);
            }
            List<String> errorLines = lines.stream().filter(l -> readJson(l).has("error")).toList();
            // The log is written before the replies it is about: complete once the last ack has arrived.
            String log = server.logText();
            int longestLogLine = log.lines().mapToInt(String::length).max().orElse(0);
            Results.record("memory", "escapes: error line lengths " + errorLines.stream()
                    .map(l -> l.getBytes(StandardCharsets.UTF_8).length).toList() + " bytes; longest log line "
                    + longestLogLine + " characters; forged log lines "
                    + LOG_LINE_START.matcher(log).results().count());

            // Every finding at once: each says something different to whoever fixes the server.
            SoftAssertions soft = new SoftAssertions();
            soft.assertThat(errorLines).as("one error line per invalid value").hasSize(values.size());
            List<String> reasons = new ArrayList<>(values.values());
            for (int i = 0; i < Math.min(errorLines.size(), reasons.size()); i++) {
                String line = errorLines.get(i);
                int bytes = line.getBytes(StandardCharsets.UTF_8).length;
                soft.assertThat(bytes).as("length in bytes of the error line about value %d: %.200s", i + 2, line)
                        .isLessThanOrEqualTo(MAX_ERROR_LINE_BYTES);
                JsonNode reply = readJson(line);
                soft.assertThat(reply.path("index").asLong()).as("index of error line %d", i + 1).isEqualTo(i + 2);
                soft.assertThat(reply.path("reason").asText(null)).as("\"reason\" of the error line about value "
                        + "%d: %.200s", i + 2, line).isEqualTo(reasons.get(i));
                soft.assertThat(Reply.parse(line)).as("still a reply for existing clients")
                        .isInstanceOf(Reply.Error.class);
            }
            soft.assertThat(database.count("apres_echappements")).as("the reading after them stored").isEqualTo(1);
            soft.assertThat(LOG_LINE_START.matcher(log).results().map(m -> m.group()).toList())
                    .as("log lines that start with text a client chose").isEmpty();
            soft.assertThat(longLogLines()).as("log lines longer than %d characters", MAX_LOG_LINE_CHARS).isEmpty();
            soft.assertAll();
            attack.end("one connection, " + values.size() + " values with fields of up to 60,000 escaped bytes");
        }
    }

    @Test
    void errorLinesNameTheirReasonAsTheMetricsDo() throws Exception {
        start("--max-message-bytes", "1024");
        Metrics before = server.metrics();
        // Value k + 2 is cases[k]; the last is cut by the end of the stream.
        List<Map.Entry<String, RejectReason>> cases = List.of(
                Map.entry("{\"capteur_id\":\"x\",\"temperature\":}\n", RejectReason.MALFORMED_JSON),
                Map.entry("[42]\n", RejectReason.NOT_A_READING),
                Map.entry("{\"temperature\":1}\n", RejectReason.MISSING_FIELD),
                Map.entry("{\"capteur_id\":\"x\",\"temperature\":\"hot\"}\n", RejectReason.WRONG_TYPE),
                Map.entry("{\"capteur_id\":\"bad id!\",\"temperature\":1}\n", RejectReason.INVALID_ID),
                Map.entry("{\"capteur_id\":\"x\",\"temperature\":-300}\n", RejectReason.OUT_OF_RANGE),
                Map.entry("{\"capteur_id\":\"x\",\"temperature\":1,\"timestamp\":\"noon\"}\n",
                        RejectReason.INVALID_TIMESTAMP),
                Map.entry("this is not json\n", RejectReason.GARBAGE),
                Map.entry("{\"capteur_id\":\"x\",\"temperature\":1,\"pad\":\"" + "y".repeat(2000) + "\"}\n",
                        RejectReason.TOO_LARGE),
                Map.entry("{\"capteur_id\":\"x\",\"temper", RejectReason.TRUNCATED));
        List<String> lines;
        try (RawClient c = RawClient.connect(server.port())) {
            c.send(ACKS);
            for (Map.Entry<String, RejectReason> bad : cases) {
                c.send(bad.getKey());
            }
            c.halfClose();
            lines = c.rawLinesUntilClosed(60_000);
        }
        Metrics after = server.metrics();
        List<JsonNode> errors = lines.stream().map(this::readJson).filter(r -> r.has("error")).toList();
        Results.record("memory", "reasons: " + errors.stream().map(e -> e.path("index").asLong() + "="
                + e.path("reason").asText("(none)")).toList());

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(errors).as("one error line per bad value: %s", lines).hasSize(cases.size());
        for (int k = 0; k < Math.min(errors.size(), cases.size()); k++) {
            JsonNode error = errors.get(k);
            String label = cases.get(k).getValue().label();
            soft.assertThat(error.path("index").asLong()).as("index of error line %d", k + 1).isEqualTo(k + 2);
            soft.assertThat(error.path("reason").asText(null)).as("\"reason\" of %s", error).isEqualTo(label);
            soft.assertThat(rejected(after, cases.get(k).getValue()) - rejected(before, cases.get(k).getValue()))
                    .as("serveur_readings_rejected_total{reason=\"%s\"}", label).isEqualTo(1);
        }
        Set<String> reasonsSent = new TreeSet<>();
        errors.forEach(e -> {
            if (e.has("reason")) {
                reasonsSent.add(e.get("reason").asText());
            }
        });
        soft.assertThat(labels(after)).as("reason labels of serveur_readings_rejected_total")
                .containsAll(reasonsSent);
        soft.assertAll();
    }

    // ------------------------------------------------------------------------------------------ helpers

    private void start(String... args) throws IOException {
        Path db = dir.resolve("mesures.db");
        server = ServeurProcess.with(dir.resolve("serveur.log"), "sqlite:" + db)
                .jvm("-Xmx128m", "-XX:+ExitOnOutOfMemoryError").args(args).start();
        database = new Database(db);
    }

    private JsonNode readJson(String line) {
        try {
            return json.readTree(line);
        } catch (IOException e) {
            throw new AssertionError("a reply line that is not JSON: " + line, e);
        }
    }

    /** The count of an ack line; 0 for any other line. */
    private static long ackOf(String line) {
        try {
            return Reply.parse(line) instanceof Reply.Ack ack ? ack.count() : 0;
        } catch (IllegalArgumentException e) {
            return 0;
        }
    }

    private static long rejected(Metrics metrics, RejectReason reason) {
        return (long) metrics.sum("serveur_readings_rejected_total", "reason=\"" + reason.label() + "\"");
    }

    private static long dropped(Metrics metrics) {
        return metrics.count("serveur_replies_dropped_total");
    }

    /**
     * Every error line about a value is short and names its reason, one of {@code reasons}, with the label the
     * metrics use.
     */
    private void assertErrorLines(List<String> lines, Set<RejectReason> reasons) {
        Set<String> labels = new TreeSet<>();
        reasons.forEach(r -> labels.add(r.label()));
        for (String line : lines) {
            JsonNode reply = readJson(line);
            if (reply.path("index").asLong() > 0) {
                assertThat(line.getBytes(StandardCharsets.UTF_8).length).as("bytes of the error line %.200s", line)
                        .isLessThanOrEqualTo(MAX_ERROR_LINE_BYTES);
                assertThat(reply.path("reason").asText(null)).as("\"reason\" of the error line %.200s", line)
                        .isIn(labels);
            }
        }
    }

    /** Lines of the server's log longer than {@link #MAX_LOG_LINE_CHARS}, cut short for a failure message. */
    private List<String> longLogLines() {
        return server.logText().lines().filter(l -> l.length() > MAX_LOG_LINE_CHARS)
                .map(l -> l.length() + " characters: " + l.substring(0, 160) + "...").toList();
    }

    /** Every reason's counter grew by exactly what the attack should have made it grow by. */
    private static void assertRejected(Metrics before, Metrics after,
            java.util.function.ToLongFunction<RejectReason> expected) {
        SoftAssertions soft = new SoftAssertions();
        for (RejectReason reason : RejectReason.values()) {
            soft.assertThat(rejected(after, reason) - rejected(before, reason))
                    .as("serveur_readings_rejected_total{reason=\"%s\"}", reason.label())
                    .isEqualTo(expected.applyAsLong(reason));
        }
        soft.assertAll();
    }

    private static final Pattern REASON_LABEL =
            Pattern.compile("(?m)^serveur_readings_rejected_total\\{[^}]*reason=\"([^\"]*)\"");

    private static Set<String> labels(Metrics metrics) {
        Set<String> labels = new TreeSet<>();
        REASON_LABEL.matcher(metrics.text()).results().forEach(m -> labels.add(m.group(1)));
        return labels;
    }

    private static String describe(List<Flood.Outcome> outcomes) {
        return String.format(Locale.ROOT, "%d values, %.1f MB", outcomes.stream().mapToLong(Flood.Outcome::values)
                .sum(), outcomes.stream().mapToLong(Flood.Outcome::bytes).sum() / 1e6);
    }

    /**
     * One attack on the server started by the test: well-behaved probes running throughout, the quiet heap
     * measured first, the heap scraped all along; {@link #end} checks what every attack must leave behind.
     */
    private final class Attack implements AutoCloseable {
        private final String name;
        private final Probes probes;
        private final long baselineHeap;
        private final long baselineLive;
        private final MetricWatch heap;
        private final long started = System.nanoTime();
        private long liveUnderAttack = -1;
        private int liveSamples;

        Attack(String name) throws Exception {
            this.name = name;
            this.probes = Probes.start(server.port(), "sonde_" + name, PROBES);
            try {
                baselineHeap = server.heapAfterGc();
                baselineLive = server.liveHeap();
                heap = MetricWatch.heap(server);
            } catch (Exception | Error e) {
                probes.close();
                throw e;
            }
        }

        void assertAlive(String when) {
            assertThat(server.alive()).as("server process alive %s (%s); log tail:%n%s", when,
                    server.alive() ? "running" : "exit code " + server.process().exitValue(), server.logTail(12))
                    .isTrue();
        }

        /** Waits for {@code condition}, failing at once (and saying so) if the server dies meanwhile. */
        void awaitCondition(String what, Callable<Boolean> condition) {
            awaitCondition(what, condition, () -> "");
        }

        /** The same, and on time out says what {@code state} reports (the figures the condition looked at). */
        void awaitCondition(String what, Callable<Boolean> condition, Callable<String> state) {
            try {
                await(what).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
                    assertAlive("while waiting for " + what);
                    try {
                        return condition.call();
                    } catch (RuntimeException e) {
                        assertStillAlive("while waiting for " + what);
                        throw e;
                    }
                });
            } catch (ConditionTimeoutException e) {
                String now;
                try {
                    now = state.call();
                } catch (Exception f) {
                    now = "(unknown: " + f + ")";
                }
                throw new AssertionError("no " + what + " within 60 s: " + now, e);
            }
        }

        /**
         * After a scrape or a jcmd failed: if the server is dying (an OutOfMemoryError ends it within moments),
         * that is what the test must say, not "connection refused".
         */
        void assertStillAlive(String when) throws InterruptedException {
            server.waitFor(Duration.ofSeconds(5));
            assertAlive(when);
        }

        /** Waits until the server has received {@code bytes} more than it had in {@code before}. */
        void awaitReceived(Metrics before, long bytes) {
            long from = before.count("serveur_received_bytes_total");
            awaitCondition((bytes >> 20) + " MiB received", () ->
                    server.metrics().count("serveur_received_bytes_total") >= from + bytes);
        }

        /**
         * The live heap now, in the middle of the attack (see {@link ServeurProcess#liveHeap()}): it must stay
         * near the quiet one, since whatever the attack costs per byte, per value or per connection would show
         * here.
         */
        long heapUnderAttack(String when) throws IOException, InterruptedException {
            assertAlive("before measuring the heap " + when);
            long live;
            Metrics now;
            try {
                now = server.metrics();
                live = server.liveHeap();
            } catch (RuntimeException e) {
                assertStillAlive("while measuring the heap " + when);
                throw e;
            }
            // Plus one value: what is in flight may pass its limit by the value that spent a connection's room.
            long bound = baselineLive + (long) now.sum("serveur_memory_inflight_limit_bytes")
                    + (long) now.sum("serveur_memory_held_limit_bytes") + ONE_VALUE
                    + (long) now.sum("serveur_connections_active") * PER_CONNECTION;
            liveUnderAttack = Math.max(liveUnderAttack, live);
            liveSamples++;
            assertThat(bound).as("the model's bound (bytes)").isGreaterThan(baselineLive + (16L << 20));
            assertThat(live).as("live heap %s (bytes; quiet: %d MB; bound %d MB)", when, baselineLive >> 20,
                    bound >> 20).isLessThanOrEqualTo(bound);
            return live;
        }

        /**
         * The checks every attack ends with: the process alive and its heap scraped throughout, the probes all
         * served and stored with a p99 under the bound, a new connection served, the heap after a full GC back
         * near the quiet one, and nothing logged at ERROR.
         */
        void end(String what) throws Exception {
            end(what, P99_BOUND_MICROS);
        }

        void end(String what, long p99BoundMicros) throws Exception {
            heap.stop();
            assertAlive("after the attack");
            heap.assertWatched(1);
            Histogram during = probes.finish(database);
            long heapAfter = server.heapAfterGc();
            String fresh = "apres_" + name;
            try (RawClient c = RawClient.connect(server.port())) {
                c.send(ACKS).send(RawClient.reading(fresh, 1.5, 1)).untilAck(2);
            }
            Results.record("memory", String.format(Locale.ROOT, "%s (%s), %.1f s: heap quiet %d MB (live %d MB), "
                    + "max scraped %d MB,%s after GC %d MB; well-behaved clients %s", name, what,
                    (System.nanoTime() - started) / 1e9, baselineHeap >> 20, baselineLive >> 20,
                    (long) heap.max() >> 20, liveUnderAttack < 0 ? "" : " live under attack at most "
                    + (liveUnderAttack >> 20) + " MB in " + liveSamples + " samples,", heapAfter >> 20,
                    AckedStreams.describe(during)));
            assertThat(database.count(fresh)).as("reading of a new connection after the attack").isEqualTo(1);
            // Everything charged for the attack's connections is given back once they are gone: a leak here would
            // leave the next clients less room, attack after attack.
            awaitCondition("the memory budget back to empty", () -> {
                Metrics m = server.metrics();
                return m.sum("serveur_memory_held_bytes") == 0 && m.sum("serveur_memory_inflight_bytes") == 0
                        && m.sum("serveur_connections_active") == 0;
            }, () -> {
                Metrics m = server.metrics();
                return "held " + m.sum("serveur_memory_held_bytes") + ", in flight "
                        + m.sum("serveur_memory_inflight_bytes") + ", connections "
                        + m.sum("serveur_connections_active");
            });
            assertThat(during.getValueAtPercentile(99)).as("p99 ack latency (us) of the well-behaved clients")
                    .isLessThanOrEqualTo(p99BoundMicros);
            assertThat(heapAfter).as("heap after GC after the attack (quiet: %d MB)", baselineHeap >> 20)
                    .isLessThanOrEqualTo(baselineHeap + HEAP_SLACK);
            assertThat(server.errorLines()).as("ERROR lines in the server's log").isEmpty();
            assertThat(longLogLines()).as("log lines longer than %d characters", MAX_LOG_LINE_CHARS).isEmpty();
        }

        @Override
        public void close() throws Exception {
            heap.stop();
            probes.close();
        }
    }

    /**
     * Many connections, each with the start of a value it never finishes: opened one after the other, then the
     * rest of every value written on all of them at once, as far as the kernel takes it without blocking.
     */
    private static final class OpenValues implements AutoCloseable {

        /** How the connections ended, as their client saw it. */
        record Ends(int afterAnErrorLine, int silently, int reset, int open) {
        }

        private final Selector selector;
        private final List<SelectionKey> keys = new ArrayList<>();
        private long written;
        private int writeFailures;

        private OpenValues(Selector selector) {
            this.selector = selector;
        }

        static OpenValues open(int port, int count, String opening) throws IOException {
            OpenValues values = new OpenValues(Selector.open());
            try {
                InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
                for (int i = 0; i < count; i++) {
                    SocketChannel channel = SocketChannel.open(address);
                    // The first bytes at once: the idle timeout counts from the last byte received.
                    channel.write(ByteBuffer.wrap(opening.getBytes(StandardCharsets.US_ASCII)));
                    channel.configureBlocking(false);
                    values.keys.add(channel.register(values.selector, 0));
                }
            } catch (IOException e) {
                values.close();
                throw e;
            }
            return values;
        }

        void writeToAll(byte[] bytes, Duration timeout) throws IOException {
            for (SelectionKey key : keys) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                key.attach(buffer);
                write(key);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (keys.stream().anyMatch(k -> k.isValid() && k.interestOps() != 0)
                    && System.nanoTime() - deadline < 0) {
                selector.select(this::write, 100);
            }
        }

        private void write(SelectionKey key) {
            ByteBuffer buffer = (ByteBuffer) key.attachment();
            try {
                written += ((SocketChannel) key.channel()).write(buffer);
                key.interestOps(buffer.hasRemaining() ? SelectionKey.OP_WRITE : 0);
            } catch (IOException e) {
                writeFailures++;
                key.interestOps(0);
            }
        }

        long written() {
            return written;
        }

        int writeFailures() {
            return writeFailures;
        }

        /** Reads every connection until the server closes it, or the timeout. */
        Ends awaitClosedByServer(Duration timeout) throws IOException {
            ByteBuffer in = ByteBuffer.allocate(4096);
            int[] ends = new int[3];
            List<SelectionKey> open = new ArrayList<>(keys);
            for (SelectionKey key : open) {
                key.attach(Boolean.FALSE);
                key.interestOps(SelectionKey.OP_READ);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            int[] left = {open.size()};
            while (left[0] > 0 && System.nanoTime() - deadline < 0) {
                selector.select(key -> {
                    in.clear();
                    int n;
                    try {
                        n = ((SocketChannel) key.channel()).read(in);
                    } catch (IOException e) {
                        n = -2;
                    }
                    if (n > 0) {
                        if (new String(in.array(), 0, n, StandardCharsets.UTF_8).contains("\"error\"")) {
                            key.attach(Boolean.TRUE);
                        }
                        return;
                    }
                    ends[n == -2 ? 2 : key.attachment() == Boolean.TRUE ? 0 : 1]++;
                    left[0]--;
                    key.cancel();
                }, 100);
            }
            return new Ends(ends[0], ends[1], ends[2], left[0]);
        }

        @Override
        public void close() throws IOException {
            for (SelectionKey key : keys) {
                key.channel().close();
            }
            selector.close();
        }
    }
}
