package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import fr.mesures.protocole.Reply;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
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

    private static long rows(Path db) throws Exception {
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + db);
                var r = c.createStatement().executeQuery("SELECT count(*) FROM mesures")) {
            r.next();
            return r.getLong(1);
        }
    }

    @Test
    void aClientThatAsksForAcksButNeverReadsThemCannotGrowTheServer() throws Exception {
        Path db = dir.resolve("mesures.db");
        // 64 MB of heap for 1,000,000 readings (70 MB of JSON) and their replies: any unbounded queue dies here.
        try (var server = ServerProcess.start(dir, List.of(),
                List.of("-Xmx64m", "-XX:+ExitOnOutOfMemoryError"), "--store", "sqlite:" + db)) {
            int total = 1_000_000;
            try (Socket socket = new Socket("127.0.0.1", server.port)) {
                socket.setReceiveBufferSize(4096);
                OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
                out.write(Reply.ACKS_REQUEST.getBytes(StandardCharsets.US_ASCII));
                for (int i = 0; i < total; i++) {
                    out.write(("{\"capteur_id\":\"s" + (i % 1000) + "\",\"temperature\":" + (i % 50)
                            + ",\"timestamp\":" + (1_700_000_000_000L + i) + "}\n").getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                        .until(() -> rows(db) == total || !server.process.isAlive());
                assertThat(server.process.isAlive()).as("server alive; log:%n%s", Files.readString(server.log))
                        .isTrue();
                // Unread replies stayed bounded: at most the kernel's buffers plus one coalesced ack and no errors.
                assertThat(rows(db)).isEqualTo(total);
            }
        }
    }

    @Test
    void aTenMegabyteValueWithoutNewlineDoesNotGrowTheHeap() throws Exception {
        try (var server = ServerProcess.start(dir, List.of(), List.of("-Xmx128m"),
                "--store", "sqlite:" + dir.resolve("mesures.db"))) {
            long before = heapAfterGc(server);
            try (Socket socket = new Socket("127.0.0.1", server.port)) {
                OutputStream out = socket.getOutputStream();
                out.write("{\"acks\":true}\n{\"capteur_id\":\"x\",\"pad\":\"".getBytes(StandardCharsets.US_ASCII));
                byte[] chunk = "x".repeat(64 * 1024).getBytes(StandardCharsets.US_ASCII);
                for (int i = 0; i < 160; i++) {
                    out.write(chunk);
                }
                out.flush();
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> metric(server, "serveur_received_bytes_total") >= 160 * 64 * 1024);
                // The server has read the 10 MB and the value is still open (no closing quote, no brace, no
                // newline): a server that kept it would hold 10 MB now.
                long during = heapAfterGc(server);
                assertThat(during - before).as("heap growth in bytes (before %d, during %d)", before, during).isLessThan(4L * 1024 * 1024);
                socket.setSoTimeout(20_000);
                var in = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                        StandardCharsets.UTF_8));
                Reply reply;
                do {
                    reply = Reply.parse(in.readLine());
                } while (!(reply instanceof Reply.Error));
                assertThat(((Reply.Error) reply).message()).contains("larger than the maximum");
                assertThat(((Reply.Error) reply).index()).isEqualTo(2);
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
        return (long) metric(server, "jvm_memory_used_bytes\\{area=\"heap\",[^}]*}");
    }

    /** The sum of the series matching {@code pattern} (a regular expression) in the server's metrics. */
    private static double metric(ServerProcess server, String pattern) throws Exception {
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.httpPort + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("^" + pattern + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return sum;
    }
}
