package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import fr.mesures.protocole.Reading;
import fr.mesures.protocole.Reply;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What can only be seen from outside the server's JVM: its heap, its system calls. */
@Timeout(180)
class ServeurProcessTest {

    @TempDir
    Path dir;

    @Test
    void aClientThatAsksForAcksButNeverReadsThemCannotGrowTheServer() throws Exception {
        Path db = dir.resolve("mesures.db");
        // 64 MB of heap for 1,000,000 readings (67 MB of JSON) and their acks: a server that kept the input, or a
        // reply per reading, would run out of it and exit.
        try (var server = ServerProcess.start(dir, List.of(),
                List.of("-Xmx64m", "-XX:+ExitOnOutOfMemoryError"), "--store", "sqlite:" + db)) {
            int total = 1_000_000;
            try (var client = TestClient.connectWithReceiveBuffer(server.port, 4096)) {
                client.requestAcks();
                var chunk = new StringBuilder();
                for (int i = 0; i < total; i++) {
                    chunk.append(new Reading("s" + (i % 1000), i % 50, 1_700_000_000_000L + i).toJson());
                    if (chunk.length() >= 1 << 16) {
                        client.send(chunk.toString());
                        chunk.setLength(0);
                    }
                }
                client.send(chunk.toString());
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                        .until(() -> Probe.rows(db, "") == total || !server.process.isAlive());
                assertThat(server.process.isAlive()).as("server alive; log:%n%s", Files.readString(server.log))
                        .isTrue();
                assertThat(Probe.rows(db, "")).isEqualTo(total);
                // What the client was sent while it did not read: acks only, the last covering every value.
                List<Reply> replies = client.finish();
                assertThat(replies).allMatch(r -> r instanceof Reply.Ack);
                assertThat(replies).last().isEqualTo(new Reply.Ack(total + 1));
            }
        }
    }

    @Test
    void aTenMegabyteValueWithoutNewlineDoesNotGrowTheHeap() throws Exception {
        try (var server = ServerProcess.start(dir, List.of(), List.of("-Xmx128m"),
                "--store", "sqlite:" + dir.resolve("mesures.db"))) {
            long before = heapAfterGc(server);
            try (var client = TestClient.connect(server.port)) {
                client.requestAcks().send("{\"capteur_id\":\"x\",\"pad\":\"");
                byte[] chunk = "x".repeat(64 * 1024).getBytes(StandardCharsets.US_ASCII);
                for (int i = 0; i < 160; i++) {
                    client.send(chunk);
                }
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> server.metric("serveur_received_bytes_total") >= 160 * 64 * 1024);
                // The server has read the 10 MB and the value is still open (no closing quote, no brace, no
                // newline): a server that kept it would hold 10 MB now.
                long during = heapAfterGc(server);
                assertThat(during - before).as("heap growth in bytes (before %d, during %d)", before, during).isLessThan(4L * 1024 * 1024);
                Reply.Error error = client.untilError();
                assertThat(error.message()).contains("larger than the maximum");
                assertThat(error.index()).isEqualTo(2);
            }
        }
    }

    @Test
    void theFileStoreSyncsBeforeItAcknowledges() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/strace")), "strace is not installed");
        Path trace = dir.resolve("trace.txt");
        Path file = dir.resolve("donnees.txt");
        // pwrite64 is how the file store writes (FileChannel.write at a position); write, writev and sendto are
        // the ways a socket channel may send the ack.
        try (var server = ServerProcess.start(dir,
                List.of("/usr/bin/strace", "-f", "--seccomp-bpf", "-qq", "-e",
                        "trace=pwrite64,pwritev,fdatasync,fsync,write,writev,sendto", "-s", "64", "-o",
                        trace.toString()),
                List.of(), "--store", "file:" + file)) {
            try (var client = TestClient.connect(server.port)) {
                client.requestAcks().send(new Reading("sync", 1, 9).toJson());
                assertThat(client.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
                assertThat(Files.readAllLines(file)).singleElement().asString().contains("\"capteur_id\":\"sync\"");
            }
        }
        List<Call> calls = Call.all(Files.readAllLines(trace));
        Call written = calls.stream()
                .filter(c -> c.name().startsWith("pwrite") && c.args().contains("{\\\"capteur_id\\\":\\\"sync\\\""))
                .findFirst().orElseThrow(() -> new AssertionError("no pwrite of the reading in " + calls));
        Call acked = calls.stream()
                .filter(c -> c.name().matches("write|writev|sendto") && c.args().contains("{\\\"ack\\\":2}"))
                .findFirst().orElseThrow(() -> new AssertionError("no write of the ack in " + calls));
        String fd = written.args().substring(0, written.args().indexOf(','));
        // A sync of the file's descriptor must start once the reading's bytes are written and complete before the
        // ack is written.
        List<Call> syncs = calls.stream()
                .filter(c -> c.name().matches("fdatasync|fsync") && c.args().equals(fd)).toList();
        assertThat(syncs).as("syncs of fd %s; the reading's pwrite is %s, the ack's write %s", fd, written, acked)
                .anyMatch(sync -> sync.result().equals("0") && sync.start() > written.end()
                        && sync.end() < acked.start());
    }

    /**
     * One system call in {@code strace -f} output: its process, name, arguments and result, and the lines where it
     * starts and ends (a call another thread interrupts is split into "unfinished" and "resumed" lines).
     */
    private record Call(long pid, String name, String args, String result, int start, int end) {

        private static final Pattern WHOLE = Pattern.compile("^(\\d+) +(\\w+)\\((.*)\\) += (.*)$");
        private static final Pattern UNFINISHED = Pattern.compile("^(\\d+) +(\\w+)\\((.*) <unfinished \\.\\.\\.>$");
        private static final Pattern RESUMED = Pattern.compile("^(\\d+) +<\\.\\.\\. (\\w+) resumed>(.*)\\) += (.*)$");

        static List<Call> all(List<String> lines) {
            List<Call> calls = new ArrayList<>();
            Map<Long, Call> unfinished = new HashMap<>();
            for (int i = 0; i < lines.size(); i++) {
                Matcher m;
                if ((m = WHOLE.matcher(lines.get(i))).matches()) {
                    calls.add(new Call(Long.parseLong(m.group(1)), m.group(2), m.group(3), m.group(4).strip(), i, i));
                } else if ((m = UNFINISHED.matcher(lines.get(i))).matches()) {
                    unfinished.put(Long.parseLong(m.group(1)), new Call(Long.parseLong(m.group(1)), m.group(2),
                            m.group(3), null, i, -1));
                } else if ((m = RESUMED.matcher(lines.get(i))).matches()) {
                    Call begun = unfinished.remove(Long.parseLong(m.group(1)));
                    if (begun != null && begun.name().equals(m.group(2))) {
                        calls.add(new Call(begun.pid(), begun.name(), begun.args() + m.group(3),
                                m.group(4).strip(), begun.start(), i));
                    }
                }
            }
            return calls;
        }
    }

    /** Heap in use right after a full GC, from the server's own metrics. */
    private static long heapAfterGc(ServerProcess server) throws Exception {
        Process gc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(server.pid()), "GC.run").redirectErrorStream(true).start();
        assertThat(gc.waitFor()).isZero();
        return (long) server.metric("jvm_memory_used_bytes", "area", "heap");
    }
}
