package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import fr.mesures.protocole.Reading;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.Reply;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients written from the exercise: most send and never read, one reads its replies only once it has finished
 * sending; and the ways values may follow each other, which one client checks by asking for acks.
 */
@Timeout(60)
class ExerciseClientsTest {

    @TempDir
    Path dir;
    RunningServeur server;

    @BeforeEach
    void start() throws Exception {
        server = RunningServeur.sqlite(dir);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void oneConnectionPerReadingWithoutNewlineThenClose() throws Exception {
        for (int i = 1; i <= 20; i++) {
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                OutputStream out = socket.getOutputStream();
                out.write(("{\"capteur_id\": \"capteur_" + i + "\", \"temperature\": " + (20 + i) + ".5}")
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> server.rows() == 20);
        assertThat(server.rows("capteur_id = 'capteur_7' AND temperature = 27.5")).isEqualTo(1);
    }

    @Test
    void theExamplePrettyPrintedAsInTheExercise() throws Exception {
        long before = System.currentTimeMillis();
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.getOutputStream().write("{\n  \"capteur_id\": \"capteur_1\",\n  \"temperature\": 23.5\n}"
                    .getBytes(StandardCharsets.UTF_8));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> server.rows() == 1);
        try (var db = DriverManager.getConnection("jdbc:sqlite:" + server.store);
                var result = db.createStatement().executeQuery(
                        "SELECT capteur_id, temperature, timestamp, received_at FROM mesures")) {
            result.next();
            assertThat(result.getString(1)).isEqualTo("capteur_1");
            assertThat(result.getDouble(2)).isEqualTo(23.5);
            assertThat(result.getLong(3)).isBetween(before, System.currentTimeMillis());
            assertThat(result.getLong(4)).isEqualTo(result.getLong(3));
        }
    }

    @Test
    void valuesWithoutSeparatorsAndArrays() throws Exception {
        try (var client = server.connect()) {
            client.requestAcks()
                    .send("{\"capteur_id\":\"a\",\"temperature\":1}{\"capteur_id\":\"b\",\"temperature\":2}"
                            + "[{\"capteur_id\":\"c\",\"temperature\":3},{\"capteur_id\":\"d\",\"temperature\":4}]"
                            + "\t[]  {\"capteur_id\":\"e\",\"temperature\":5}");
            var replies = client.finish();
            assertThat(TestClient.errorsIn(replies)).isEmpty();
            assertThat(replies).last().isEqualTo(new Reply.Ack(6));
        }
        assertThat(server.rows()).isEqualTo(5);
    }

    @Test
    void aPlainClientThatNeverAskedGetsItsRepliesOnceItHasFinishedSending() throws Exception {
        try (var client = server.connect()) {
            client.send("{\"capteur_id\":\"a\",\"temperature\":1}\n{\"capteur_id\":\"a\"}\n");
            // Both values are handled, so a server that replied as it goes would have its replies on the way now.
            await().atMost(Duration.ofSeconds(10)).until(() -> server.metric("serveur_readings_stored_total") == 1
                    && server.metric("serveur_readings_rejected_total", "reason", "missing_field") == 1);
            // Nothing is sent while the client may still be sending. The short wait only leaves such replies time to
            // cross loopback; the server's decision was made before it.
            client.socket().setSoTimeout(200);
            assertThat(catchThrowable(client::next)).isInstanceOf(SocketTimeoutException.class);
            client.socket().setSoTimeout(TestClient.READ_TIMEOUT_MILLIS);
            assertThat(client.finish()).containsExactly(
                    Reply.Error.ofValue(2, 0, RejectReason.MISSING_FIELD, "temperature is missing"), new Reply.Ack(2));
        }
    }

    @Test
    void aMillionReadingsOnOneConnectionFromAClientThatNeverReads() throws Exception {
        int total = 1_000_000;
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            OutputStream out = new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16);
            for (int i = 0; i < total; i++) {
                // What is written is not the point here, how the client behaves is: protocole's own form will do.
                out.write(new Reading("s" + (i % 1000), i % 50, 1_700_000_000_000L + i).toJson()
                        .getBytes(StandardCharsets.US_ASCII));
            }
            out.flush();
        }
        // Closed right after writing, as `cat file > /dev/tcp/...` does: the server said nothing to this client,
        // so the close is an orderly one and everything written arrives.
        await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(200))
                .until(() -> server.rows() == total);
        assertThat(server.rows("timestamp BETWEEN 1700000000000 AND 1700000999999")).isEqualTo(total);
    }
}
