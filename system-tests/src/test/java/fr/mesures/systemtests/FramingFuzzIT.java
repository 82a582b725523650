package fr.mesures.systemtests;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.protocole.CapteurIds;
import fr.mesures.protocole.ReadingRules;
import fr.mesures.protocole.Reply;
import fr.mesures.protocole.Timestamps;
import fr.mesures.systemtests.fuzz.FuzzStream;
import fr.mesures.systemtests.support.Database;
import fr.mesures.systemtests.support.RawClient;
import fr.mesures.systemtests.support.Results;
import fr.mesures.systemtests.support.ServeurProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded random-mutation fuzzer of the framing and decoding, against the server jar: hundreds of connections,
 * several at a time, each a stream of valid readings mixed with garbage, broken, truncated, mutated, oversized
 * and unterminated values (see {@link FuzzStream}), written in random pieces so the server's reads cut it
 * anywhere. For every stream the test knows, from the protocol document alone ({@code FramingModel}), how many
 * values it holds and which readings are intact. Then:
 *
 * <ul>
 *   <li>the server never fails out of its loop: it answers each half-closed connection with a final ack that
 *       counts exactly the values sent, logs no ERROR, and serves a fresh connection at the end;</li>
 *   <li>it stores every intact reading, with its temperature, and no error line names an intact value;</li>
 *   <li>it stores nothing that was not a valid reading sent by a client.</li>
 * </ul>
 *
 * <p>A failure names the seed and the stream, and leaves the stream's bytes in the test's folder:
 * {@code -Dfuzz.seed=S} replays the same run.
 */
class FramingFuzzIT {

    private static final int MAX_VALUE_BYTES = 4096;
    private static final int STREAMS = 3000;
    private static final int PARALLEL = 6;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void anyByteStreamStoresExactlyTheIntactReadingsAndNeverBreaksTheServer() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        Path db = dir.resolve("mesures.db");
        long started = System.nanoTime();
        try (ServeurProcess server = ServeurProcess.with(dir.resolve("serveur.log"), "sqlite:" + db)
                .jvm("-Xmx128m", "-XX:+ExitOnOutOfMemoryError")
                .args("--max-message-bytes", String.valueOf(MAX_VALUE_BYTES)).start()) {
            List<FuzzStream> streams = new ArrayList<>();
            ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
            ExecutorService pool = Executors.newFixedThreadPool(PARALLEL);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int n = 0; n < STREAMS; n++) {
                    FuzzStream stream = new FuzzStream(seed, n, MAX_VALUE_BYTES);
                    streams.add(stream);
                    done.add(pool.submit(() -> {
                        play(server, stream, seed, problems);
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(4, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(problems).as("seed %d: problems per stream", seed).isEmpty();

            checkDatabase(new Database(db), streams, seed);

            // Still serving, and never caught anything it did not expect.
            try (RawClient c = RawClient.connect(server.port())) {
                c.send(Reply.ACKS_REQUEST).send(RawClient.reading("apres_fuzz", 1, 1));
                assertThat(c.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
            }
            assertThat(server.errorLines()).as("seed %d", seed).isEmpty();
            long bytes = streams.stream().mapToLong(s -> s.bytes().length).sum();
            long intact = streams.stream().mapToLong(s -> s.must.size()).sum();
            long values = streams.stream().mapToLong(FuzzStream::values).sum();
            Results.record("fuzz", String.format("seed %d: %d streams, %d values, %.1f MB, %d intact readings all "
                    + "stored, nothing else stored, final acks exact, 0 ERROR lines, in %.0f s", seed, STREAMS, values,
                    bytes / 1e6, intact, (System.nanoTime() - started) / 1e9));
        }
    }

    /** Writes the stream in random pieces, half-closes, and reads every reply to the end. */
    private void play(ServeurProcess server, FuzzStream stream, long seed, ConcurrentLinkedQueue<String> problems)
            throws IOException {
        byte[] bytes = stream.bytes();
        Random random = new Random(seed ^ stream.number);
        List<Reply> replies;
        try (RawClient c = RawClient.connect(server.port())) {
            OutputStream out = c.socket().getOutputStream();
            int at = 0;
            while (at < bytes.length) {
                int n = Math.min(bytes.length - at, 1 + random.nextInt(random.nextBoolean() ? 16 : 4096));
                out.write(bytes, at, n);
                out.flush();
                at += n;
                if (random.nextInt(8) == 0) {
                    // Let the server read what is there, so the next piece arrives in another read.
                    LockSupport.parkNanos(random.nextInt(2_000_000));
                }
            }
            c.halfClose();
            replies = c.untilClosed(120_000);
        } catch (IOException | RuntimeException e) {
            problems.add(describe(stream, seed, "failed: " + e));
            keep(stream);
            return;
        }
        Reply last = replies.isEmpty() ? null : replies.get(replies.size() - 1);
        if (!(last instanceof Reply.Ack ack) || ack.count() != stream.values()) {
            problems.add(describe(stream, seed, "final reply " + last + ", expected {\"ack\":" + stream.values() + "}"));
            keep(stream);
        }
        for (Reply.Error e : RawClient.errors(replies)) {
            if (stream.intactValues.contains(e.index())) {
                problems.add(describe(stream, seed, "error line about intact value " + e.index() + ": " + e.message()));
                keep(stream);
            }
        }
    }

    private void checkDatabase(Database database, List<FuzzStream> streams, long seed) {
        Map<FuzzStream.Key, Double> must = new HashMap<>();
        Set<FuzzStream.Key> maybe = new HashSet<>();
        Set<String> maybeIds = new HashSet<>();
        Set<Long> maybeTimestamps = new HashSet<>();
        for (FuzzStream s : streams) {
            must.putAll(s.must);
            maybe.addAll(s.maybe);
            maybeIds.addAll(s.maybeIds);
            maybeTimestamps.addAll(s.maybeTimestamps);
        }
        Set<FuzzStream.Key> stored = new HashSet<>();
        List<String> strangers = new ArrayList<>();
        for (Database.Row row : database.all()) {
            FuzzStream.Key key = new FuzzStream.Key(row.capteurId(), row.timestamp());
            stored.add(key);
            Double temperature = must.get(key);
            if (temperature != null) {
                if (temperature != row.temperature()) {
                    strangers.add(row + " stored with another temperature than sent (" + temperature + ")");
                }
            } else if (!maybe.contains(key) && !((maybeIds.contains(row.capteurId())
                    || maybeTimestamps.contains(row.timestamp())) && valid(row))) {
                strangers.add(row + " was never a valid reading of any stream");
            }
        }
        assertThat(strangers).as("seed %d: rows that must not be there", seed).isEmpty();
        Set<FuzzStream.Key> missing = new HashSet<>(must.keySet());
        missing.removeAll(stored);
        assertThat(missing).as("seed %d: intact readings not stored", seed).isEmpty();
    }

    private static boolean valid(Database.Row row) {
        // The server runs with the protocol's default rules (no --max-temperature).
        return CapteurIds.isValid(row.capteurId()) && Timestamps.inRange(row.timestamp())
                && ReadingRules.DEFAULT.temperatureProblem(row.temperature()) == null;
    }

    private String describe(FuzzStream stream, long seed, String problem) {
        return "seed " + seed + " stream " + stream.number + ": " + problem + " (segments " + stream.segments
                + "; bytes in " + dir.resolve("stream-" + stream.number + ".bin") + ")";
    }

    private void keep(FuzzStream stream) {
        try {
            Files.write(dir.resolve("stream-" + stream.number + ".bin"), stream.bytes());
        } catch (IOException e) {
            // the problem is reported anyway
        }
    }
}
