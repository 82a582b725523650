package fr.mesures.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.protocole.Reply;
import fr.mesures.systemtests.support.AckedStreams;
import fr.mesures.systemtests.support.Database;
import fr.mesures.systemtests.support.Probes;
import fr.mesures.systemtests.support.RawClient;
import fr.mesures.systemtests.support.Results;
import fr.mesures.systemtests.support.ServeurProcess;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken and hostile clients against one server (-Xmx128m, exits on OutOfMemoryError, idle timeout 3 s), each
 * while 8 well-behaved clients send a reading every 20 ms with acks: the hostile one gets clear error lines, its
 * connection recovers where the protocol says it does, the server's heap stays bounded, and the well-behaved
 * clients' readings all arrive with a latency close to the quiet baseline. A client that sends one byte a second
 * runs in the background through every test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class HostileClientsIT {

    private static final String ACKS = Reply.ACKS_REQUEST;
    private static final int PROBES = 8;
    /** Generous: the machine is shared, and a 1 GB stream costs the selector thread real work. */
    private static final long MIN_P99_BOUND_MICROS = 1_000_000;
    /**
     * A client sending as fast as it can shares the server's one in-flight budget (16 MiB with -Xmx128m, of which
     * it may hold 1/(n+1) while n connections have values in flight), so everyone else's acks wait behind its
     * share.
     */
    private static final long FLOOD_P99_BOUND_MICROS = 3_000_000;
    private static final long MAX_LATENCY_MICROS = 10_000_000;
    private static final long HEAP_SLACK = 32L << 20;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path dir;

    private ServeurProcess server;
    private Database database;
    private Histogram baseline;
    private long baselineHeap;
    private SlowClient slow;

    @BeforeAll
    void startServerAndMeasureQuietLatency() throws Exception {
        server = ServeurProcess.with(dir.resolve("serveur.log"), "sqlite:" + dir.resolve("mesures.db"))
                .jvm("-Xmx128m", "-XX:+ExitOnOutOfMemoryError").args("--idle-timeout", "3s").start();
        database = new Database(dir.resolve("mesures.db"));
        try (AckedStreams quiet = probes("calme")) {
            // Warm up first (JIT, page cache): the baseline is the server's normal, not its first second.
            await().atMost(Duration.ofSeconds(60)).until(() -> quiet.acked() >= 400);
            quiet.latencySinceLastCall();
            await().atMost(Duration.ofSeconds(60)).until(() -> quiet.acked() >= 1400);
            baseline = quiet.latencySinceLastCall();
            quiet.stop();
            await().atMost(Duration.ofSeconds(30)).until(quiet::allEnded);
        }
        baselineHeap = server.heapAfterGc();
        Results.record("hostile", "quiet baseline of " + PROBES + " clients every 20 ms: "
                + AckedStreams.describe(baseline) + "; heap after GC " + (baselineHeap >> 20) + " MB");
        slow = new SlowClient(server.port());
    }

    @AfterAll
    void slowClientWasServedAndTheServerIsWhole() throws Exception {
        if (server == null) {
            return;
        }
        try {
            SlowClient.Outcome outcome = slow.finish();
            assertThat(outcome.replies()).as("slow client's replies").last().isEqualTo(new Reply.Ack(2));
            assertThat(RawClient.errors(outcome.replies())).isEmpty();
            assertThat(outcome.dripped()).as("bytes sent one a second, never cut off by the 3 s idle timeout")
                    .isGreaterThanOrEqualTo(8);
            assertThat(database.count("lent")).isEqualTo(1);
            Results.record("hostile", "slow client: " + outcome.dripped() + " bytes at one a second over "
                    + outcome.seconds() + " s, never timed out, its reading stored and acknowledged");
            assertThat(server.errorLines()).as("ERROR lines in the server log").isEmpty();
            assertThat(server.alive()).isTrue();
        } finally {
            server.close();
        }
    }

    @Test
    void garbageBytesCostOneErrorLineAndTheNextLineIsRead() throws Exception {
        withProbes("garbage", () -> {
            byte[] junk = new byte[64 * 1024];
            new Random(1).nextBytes(junk);
            for (int i = 0; i < junk.length; i++) {
                if (junk[i] == '\n') {
                    junk[i] = 'x';
                }
            }
            junk[0] = (byte) 0x80;
            try (RawClient c = RawClient.connect(server.port())) {
                c.send(ACKS).send(junk).send("\n").send(RawClient.reading("apres_garbage", 1.5, 1));
                List<Reply.Error> errors = RawClient.errors(c.untilAck(3));
                assertThat(errors).singleElement().satisfies(e -> {
                    assertThat(e.index()).isEqualTo(2);
                    assertThat(e.message()).contains("garbage").contains("0x80");
                });
            }
            assertThat(database.count("apres_garbage")).isEqualTo(1);
        });
    }

    @Test
    void invalidUtf8AndNulBytesAreRejectedClearly() throws Exception {
        withProbes("utf8_nul", () -> {
            try (RawClient c = RawClient.connect(server.port())) {
                c.send(ACKS)
                        .send(concat("{\"capteur_id\":\"caf", new byte[] {(byte) 0xC3, 0x28},
                                "\",\"temperature\":1,\"timestamp\":1}\n"))
                        .send(new byte[] {(byte) 0xFF, (byte) 0xFE, 0, 'A', '\n'})
                        .send(concat("", new byte[10_000], "\n"))
                        .send(concat("{\"capteur_id\":\"nul", new byte[] {0}, "\",\"temperature\":1,\"timestamp\":1}\n"))
                        .send(RawClient.reading("apres_utf8", 2.5, 1));
                List<Reply.Error> errors = RawClient.errors(c.untilAck(6));
                assertThat(errors).extracting(Reply.Error::index).containsExactly(2L, 3L, 4L, 5L);
                assertThat(errors.get(0).message()).contains("malformed JSON").containsIgnoringCase("UTF-8");
                assertThat(errors.get(1).message()).contains("garbage").contains("0xFF");
                assertThat(errors.get(2).message()).contains("garbage").contains("0x00");
                assertThat(errors.get(3).message()).contains("malformed JSON");
            }
            assertThat(database.count("apres_utf8")).isEqualTo(1);
        });
    }

    @Test
    void deepNestingIsRejectedAndAHundredThousandBracketsAreSkipped() throws Exception {
        withProbes("nesting", () -> {
            try (RawClient c = RawClient.connect(server.port())) {
                c.send(ACKS).send("[".repeat(1000) + "]".repeat(1000) + "\n")
                        .send("[".repeat(100_000)).send("]".repeat(100_000) + "\n")
                        .send(RawClient.reading("apres_crochets", 3.5, 1));
                List<Reply.Error> errors = RawClient.errors(c.untilAck(4));
                assertThat(errors).extracting(Reply.Error::index).containsExactly(2L, 3L);
                assertThat(errors.get(0).message()).contains("malformed JSON").containsIgnoringCase("nesting");
                assertThat(errors.get(1).message()).contains("larger than the maximum");
            }
            assertThat(database.count("apres_crochets")).isEqualTo(1);
        });
    }

    @Test
    void hugeNumbersAndHugeStringsAreRejectedClearly() throws Exception {
        withProbes("huge", () -> {
            try (RawClient c = RawClient.connect(server.port())) {
                c.send(ACKS)
                        .send("{\"capteur_id\":\"n1\",\"temperature\":1e999999,\"timestamp\":1}\n")
                        .send("{\"capteur_id\":\"n2\",\"temperature\":1" + "0".repeat(5000) + ",\"timestamp\":1}\n")
                        .send("{\"capteur_id\":\"n3\",\"temperature\":1,\"timestamp\":1" + "0".repeat(30) + "}\n")
                        .send("{\"capteur_id\":\"" + "a".repeat(60_000) + "\",\"temperature\":1,\"timestamp\":1}\n")
                        .send("{\"capteur_id\":\"s\",\"temperature\":1,\"note\":\"" + "x".repeat(1 << 20) + "\"}\n")
                        .send(RawClient.reading("apres_enormes", 4.5, 1));
                List<Reply.Error> errors = RawClient.errors(c.untilAck(7));
                assertThat(errors).extracting(Reply.Error::index).containsExactly(2L, 3L, 4L, 5L, 6L);
                assertThat(errors.get(0).message()).contains("finite");
                assertThat(errors.get(1).message()).isNotBlank();
                assertThat(errors.get(2).message()).contains("timestamp");
                assertThat(errors.get(3).message()).contains("longer than 64");
                assertThat(errors.get(4).message()).contains("larger than the maximum");
                assertThat(errors).allSatisfy(e -> assertThat(e.message().length()).isLessThan(400));
                Results.record("hostile", "huge values, error lines: " + errors.stream()
                        .map(e -> e.index() + ": " + e.message()).toList());
            }
            assertThat(database.count("apres_enormes")).isEqualTo(1);
        });
    }

    @Test
    void aGigabyteWithoutNewlineIsSkippedWithoutGrowingTheHeap() throws Exception {
        withProbes("giga", () -> {
            long heapDuring;
            long started = System.nanoTime();
            // The server's byte count runs over the whole class: earlier tests' bytes must not count as this one's.
            long before = receivedBytes();
            try (RawClient c = RawClient.connect(server.port())) {
                c.send(ACKS + "{\"capteur_id\":\"giga\",\"temperature\":1,\"note\":\"");
                byte[] chunk = new byte[1 << 20];
                Arrays.fill(chunk, (byte) 'x');
                OutputStream out = c.socket().getOutputStream();
                for (int i = 0; i < 1024; i++) {
                    out.write(chunk);
                }
                out.flush();
                await().atMost(Duration.ofSeconds(60)).until(() -> receivedBytes() >= before + (1L << 30));
                // The value is still open: a server that kept it would hold a gigabyte now.
                heapDuring = server.heapAfterGc();
                c.send("\"}\n").send(RawClient.reading("apres_giga", 5.5, 1));
                List<Reply.Error> errors = RawClient.errors(c.untilAck(3));
                assertThat(errors).singleElement().satisfies(e -> {
                    assertThat(e.index()).isEqualTo(2);
                    assertThat(e.message()).contains("larger than the maximum");
                });
            }
            assertThat(heapDuring).as("heap after GC with 1 GB of one value received").isLessThan(baselineHeap + HEAP_SLACK);
            assertThat(database.count("apres_giga")).isEqualTo(1);
            Results.record("hostile", String.format("1 GB in one string without newline: skipped in %.1f s, heap "
                    + "after GC while it was open %d MB (baseline %d MB), connection usable after it",
                    (System.nanoTime() - started) / 1e9, heapDuring >> 20, baselineHeap >> 20));
        });
    }

    @Test
    void aValueThatNeverEndsSwallowsItsConnectionOnlyAndTheHeapStaysBounded() throws Exception {
        withProbes("sans_fin", () -> {
            try (RawClient c = RawClient.connect(server.port())) {
                OutputStream out = new BufferedOutputStream(c.socket().getOutputStream(), 1 << 16);
                c.send(ACKS + "[");
                for (int i = 0; i < 300_000; i++) {
                    out.write(RawClient.reading("avale", 1, i).getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
                List<Reply.Error> errors = RawClient.errors(c.until(Reply.Error.class::isInstance, 60_000));
                assertThat(errors).singleElement().satisfies(e -> {
                    assertThat(e.index()).isEqualTo(2);
                    assertThat(e.message()).contains("larger than the maximum");
                });
                assertThat(server.heapAfterGc()).isLessThan(baselineHeap + HEAP_SLACK);
            }
            // Inside a broken value, as docs/protocol.md says: nothing of it is stored.
            assertThat(database.count("avale")).isZero();
        });
    }

    @Test
    void aClientThatSendsNothingIsClosedAfterTheIdleTimeoutWithAReason() throws Exception {
        withProbes("muet", () -> {
            long started = System.nanoTime();
            try (RawClient c = RawClient.connect(server.port())) {
                List<Reply> replies = c.untilClosed(30_000);
                double seconds = (System.nanoTime() - started) / 1e9;
                assertThat(RawClient.errors(replies)).singleElement()
                        .satisfies(e -> assertThat(e.message()).contains("no data for 3 s"));
                assertThat(seconds).isBetween(2.9, 15.0);
                Results.record("hostile", String.format("silent client closed after %.1f s with '%s'", seconds,
                        RawClient.errors(replies).get(0).message()));
            }
        });
    }

    @Test
    void aClientThatNeverReadsItsAcksIsServedAndCannotBlockOthers() throws Exception {
        withProbes("sourd", FLOOD_P99_BOUND_MICROS, () -> {
            int readings = 300_000;
            try (RawClient c = RawClient.connect(server.port())) {
                c.socket().setReceiveBufferSize(4096);
                OutputStream out = new BufferedOutputStream(c.socket().getOutputStream(), 1 << 16);
                out.write(ACKS.getBytes(StandardCharsets.US_ASCII));
                for (int i = 0; i < readings; i++) {
                    out.write(RawClient.reading("sourd", i % 50, i).getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                        .until(() -> database.count("sourd") == readings);
            }
            assertThat(server.heapAfterGc()).isLessThan(baselineHeap + HEAP_SLACK);
        });
    }

    @Test
    void aConnectionResetInTheMiddleOfAValueLosesOnlyThatValue() throws Exception {
        withProbes("reset", () -> {
            long open = server.metrics().count("serveur_connections_active");
            try (RawClient c = RawClient.connect(server.port())) {
                StringBuilder text = new StringBuilder(ACKS);
                for (int i = 0; i < 1000; i++) {
                    text.append(RawClient.reading("coupe_a", 1, i));
                }
                c.send(text.toString()).untilAck(1001);
                c.send("{\"capteur_id\":\"coupe_a\",\"temperature\":99,\"times");
                c.reset();
            }
            try (RawClient c = RawClient.connect(server.port())) {
                // No waiting this time: the reset may overtake what the server has not read yet.
                StringBuilder text = new StringBuilder(ACKS);
                for (int i = 0; i < 5000; i++) {
                    text.append(RawClient.reading("coupe_b", 1, i));
                }
                c.send(text.append("{\"capteur_id\":\"coupe_b\",\"temperature\":99,\"timestamp\":99999").toString());
                c.reset();
            }
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> server.metrics().count("serveur_connections_active") == open);
            assertThat(database.count("coupe_a")).isEqualTo(1000);
            List<Database.Row> b = database.rows("coupe_b");
            for (int i = 0; i < b.size(); i++) {
                assertThat(b.get(i).timestamp()).as("a prefix of what was sent, no holes").isEqualTo(i);
            }
            assertThat(b.size()).isLessThanOrEqualTo(5000);
            Results.record("hostile", "reset mid-value: 1000 acknowledged readings kept, the partial value "
                    + "dropped; without waiting: " + b.size() + " of 5000 stored, as a prefix");
        });
    }

    // ------------------------------------------------------------------------------------------ helpers

    private interface Attack {
        void run() throws Exception;
    }

    private AckedStreams probes(String name) throws IOException {
        return AckedStreams.Plan.of("sonde_" + name, PROBES).interval(Duration.ofMillis(20)).window(100_000)
                .open(server.port());
    }

    /**
     * Runs the attack while the well-behaved clients send; then checks they lost nothing and were served in
     * normal time, and that the server is alive and logged no ERROR.
     */
    private void withProbes(String name, Attack attack) throws Exception {
        withProbes(name, Math.max(MIN_P99_BOUND_MICROS, 10 * baseline.getValueAtPercentile(99)), attack);
    }

    private void withProbes(String name, long bound, Attack attack) throws Exception {
        Histogram during;
        try (Probes probes = Probes.start(server.port(), "sonde_" + name, PROBES)) {
            attack.run();
            // And still served after it, with every reading stored.
            during = probes.finish(database);
        }
        Results.record("hostile", String.format("%-9s well-behaved clients during the attack: %s (p99 bound %.0f ms)",
                name, AckedStreams.describe(during), bound / 1000.0));
        assertThat(during.getValueAtPercentile(99)).as("p99 latency (us) of the well-behaved clients during " + name)
                .isLessThanOrEqualTo(bound);
        assertThat(during.getMaxValue()).isLessThanOrEqualTo(MAX_LATENCY_MICROS);
        assertThat(server.alive()).as("server alive after " + name).isTrue();
        assertThat(server.errorLines()).isEmpty();
    }

    private long receivedBytes() {
        return server.metrics().count("serveur_received_bytes_total");
    }

    private static byte[] concat(String before, byte[] middle, String after) {
        byte[] a = before.getBytes(StandardCharsets.UTF_8);
        byte[] c = after.getBytes(StandardCharsets.UTF_8);
        byte[] all = Arrays.copyOf(a, a.length + middle.length + c.length);
        System.arraycopy(middle, 0, all, a.length, middle.length);
        System.arraycopy(c, 0, all, a.length + middle.length, c.length);
        return all;
    }

    /** One reading, one byte a second, on its own thread, for as long as the other tests run. */
    private static final class SlowClient {
        record Outcome(List<Reply> replies, int dripped, long seconds) {
        }

        private final byte[] reading = RawClient.reading("lent", 6.5, 1).getBytes(StandardCharsets.US_ASCII);
        private final RawClient client;
        private final Thread thread;
        private final long started = System.nanoTime();
        private volatile boolean finishing;
        private volatile int dripped;
        private volatile Exception failure;

        SlowClient(int port) throws IOException {
            client = RawClient.connect(port);
            client.send(ACKS);
            thread = new Thread(this::drip, "slow-client");
            thread.setDaemon(true);
            thread.start();
        }

        private void drip() {
            try {
                while (!finishing && dripped < reading.length - 1) {
                    client.send(new byte[] {reading[dripped]});
                    dripped++;
                    Thread.sleep(1000); // the attack itself: one byte a second
                }
            } catch (IOException e) {
                failure = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        Outcome finish() throws Exception {
            // Long enough to have outlived the 3 s idle timeout twice over, one byte at a time.
            await().atMost(Duration.ofSeconds(60)).until(() -> dripped >= 8 || failure != null);
            finishing = true;
            thread.interrupt();
            thread.join(10_000);
            if (failure != null) {
                throw failure;
            }
            try (client) {
                client.send(Arrays.copyOfRange(reading, dripped, reading.length));
                client.halfClose();
                List<Reply> replies = client.untilClosed(30_000);
                return new Outcome(replies, dripped, (System.nanoTime() - started) / 1_000_000_000L);
            }
        }
    }
}
