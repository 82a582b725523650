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
import java.util.List;
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
        // 64 MB of heap for 1,000,000 readings (70 MB of JSON) and their replies: any unbounded queue dies here.
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
                // Unread replies stayed bounded: at most the kernel's buffers plus one coalesced ack and no errors.
                assertThat(Probe.rows(db, "")).isEqualTo(total);
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
        try (var server = ServerProcess.start(dir,
                List.of("/usr/bin/strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=fdatasync,fsync,write", "-s", "64", "-o",
                        trace.toString()),
                List.of(), "--store", "file:" + file)) {
            try (var client = TestClient.connect(server.port)) {
                client.send(Reply.ACKS_REQUEST + "{\"capteur_id\":\"sync\",\"temperature\":1,\"timestamp\":9}\n");
                assertThat(client.untilAck(2)).last().isEqualTo(new Reply.Ack(2));
                assertThat(Files.readAllLines(file)).singleElement().asString().contains("\"capteur_id\":\"sync\"");
            }
        }
        List<String> lines = Files.readAllLines(trace);
        int synced = -1;
        int acked = -1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (synced < 0 && line.matches(".*(fdatasync|fsync)(\\(\\d+|.*resumed>).*= 0$")) {
                synced = i;
            }
            if (acked < 0 && line.contains("write(") && line.contains("{\\\"ack\\\":2}")) {
                acked = i;
            }
        }
        assertThat(synced).as("an fdatasync that completed").isNotNegative();
        assertThat(acked).as("the write of the ack").isNotNegative();
        assertThat(synced).as("fdatasync completes before the ack is written").isLessThan(acked);
    }

    /** Heap in use right after a full GC, from the server's own metrics. */
    private static long heapAfterGc(ServerProcess server) throws Exception {
        Process gc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(server.pid()), "GC.run").redirectErrorStream(true).start();
        assertThat(gc.waitFor()).isZero();
        return (long) server.metric("jvm_memory_used_bytes", "area", "heap");
    }
}
