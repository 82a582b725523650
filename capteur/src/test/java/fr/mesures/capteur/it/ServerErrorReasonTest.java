package fr.mesures.capteur.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.capteur.CapteurFleet;
import fr.mesures.capteur.CapteurSettings;
import fr.mesures.capteur.network.Backoff;
import fr.mesures.capteur.source.LimitedSource;
import fr.mesures.capteur.source.SimulatedTemperatures;
import fr.mesures.protocole.RejectReason;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the sensor does with the {@code reason} of an error line about one of its values: {@code internal_error}
 * (the server failed, nothing was stored) means "send it again", through the failure path and its backoff; any
 * other reason, or none (an older server), means the reading is refused for good. The server is a scripted peer,
 * so each test chooses exactly which value fails and why; the sensor under test is the real one.
 */
class ServerErrorReasonTest {

    private static final long T = 1_764_000_000_000L;

    /** What the peer writes after reading value {@code index} (1-based) of connection {@code connection}. */
    @FunctionalInterface
    private interface Answer {
        String after(int connection, int index);
    }

    /**
     * Accepts connections on 127.0.0.1; on each, records every line the sensor sends and writes the script's
     * answer to it (all its lines in one write, so they reach the sensor together).
     */
    private static final class Peer implements AutoCloseable {
        final ServerSocket socket;
        final List<List<String>> connections = new CopyOnWriteArrayList<>();
        final List<Long> acceptedNanos = new CopyOnWriteArrayList<>();
        private final Thread acceptor;

        Peer(Answer answer) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            acceptor = new Thread(() -> {
                try {
                    for (int n = 0; ; n++) {
                        Socket s = socket.accept();
                        acceptedNanos.add(System.nanoTime());
                        List<String> lines = new CopyOnWriteArrayList<>();
                        connections.add(lines);
                        int number = n;
                        Thread t = new Thread(() -> play(number, s, lines, answer), "peer-" + n);
                        t.setDaemon(true);
                        t.start();
                    }
                } catch (IOException e) {
                    // closed by the test
                }
            }, "peer-acceptor");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private static void play(int number, Socket s, List<String> lines, Answer answer) {
            try (s; var in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
                OutputStream out = s.getOutputStream();
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                    String reply = answer.after(number, lines.size());
                    if (!reply.isEmpty()) {
                        out.write(reply.getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // the sensor closed this connection
            }
        }

        int port() {
            return socket.getLocalPort();
        }

        /** Every line sent with this timestamp, all connections together. */
        List<String> linesWith(long timestamp) {
            return connections.stream().flatMap(List::stream)
                    .filter(line -> line.contains("\"timestamp\":" + timestamp + "}")).toList();
        }

        @Override
        public void close() throws Exception {
            socket.close();
            acceptor.join(5000);
        }
    }

    private static CapteurSettings settings(int port, Backoff.Policy backoff) {
        return CapteurSettings.builder("127.0.0.1", port)
                .interval(Duration.ofMillis(5))
                .connectTimeout(Duration.ofSeconds(2))
                .ackTimeout(Duration.ofSeconds(10))
                .backoff(backoff)
                .build();
    }

    private static CapteurFleet sensor(String id, int readings, CapteurSettings settings) {
        return CapteurFleet.startWithClocks(List.of(id), i -> new LimitedSource(new SimulatedTemperatures(1), readings),
                settings, i -> new AtomicLong(T)::getAndIncrement);
    }

    private static String error(long index, String reasonField) {
        return "{\"error\":\"value " + index + " rejected\",\"index\":" + index + reasonField + "}\n";
    }

    @Test
    @Timeout(30)
    void aValueTheServerFailedToHandleIsSentAgainOnANewConnectionAndEverythingEndsAcknowledged() throws Exception {
        String internal = ",\"reason\":\"" + RejectReason.INTERNAL.label() + "\"";
        // Value 3 of the first connection (reading T+1) fails inside the server; the ack that covers it comes right
        // behind the error line, in the same write. Everything else is acknowledged as soon as it is read.
        try (var peer = new Peer((n, index) -> n == 0 && index == 3
                ? error(3, internal) + "{\"ack\":3}\n"
                : "{\"ack\":" + index + "}\n")) {
            try (var fleet = sensor("interne", 5, settings(peer.port(),
                    new Backoff.Policy(Duration.ofMillis(20), Duration.ofMillis(100))))) {

                assertThat(fleet.awaitFinished(Duration.ofSeconds(20))).isTrue();
                var outcome = fleet.outcome();
                assertThat(outcome.exitCode()).as(outcome.toString()).isZero();
                assertThat(outcome.rejected()).isZero();
                assertThat(outcome.acknowledged()).isEqualTo(5);
            }
            assertThat(peer.connections).hasSizeGreaterThanOrEqualTo(2);
            List<String> first = peer.connections.get(0);
            List<String> second = peer.connections.get(1);
            assertThat(first.get(2)).contains("\"timestamp\":" + (T + 1) + "}");
            // T was acknowledged before the error: the new connection starts with the failed reading, byte for byte
            // the same (capteur_id, temperature, timestamp), numbered from 1 again after the acks request.
            assertThat(second.get(0)).isEqualTo("{\"acks\":true}");
            assertThat(second.get(1)).isEqualTo(first.get(2)).startsWith("{\"capteur_id\":\"interne\"");
            assertThat(peer.linesWith(T + 1)).containsExactly(first.get(2), first.get(2));
        }
    }

    @ParameterizedTest(name = "reason field: [{0}]")
    @ValueSource(strings = {",\"reason\":\"out_of_range\"", ""}) // the second: an older server, no reason
    @Timeout(30)
    void aValueTheServerRefusesForGoodIsNotSentAgainAndCountsAsRejected(String reasonField) throws Exception {
        try (var peer = new Peer((n, index) -> index == 3
                ? error(3, reasonField) + "{\"ack\":3}\n"
                : "{\"ack\":" + index + "}\n")) {
            try (var fleet = sensor("refuse", 5, settings(peer.port(),
                    new Backoff.Policy(Duration.ofMillis(20), Duration.ofMillis(100))))) {

                assertThat(fleet.awaitFinished(Duration.ofSeconds(20))).isTrue();
                var outcome = fleet.outcome();
                assertThat(outcome.rejected()).as(outcome.toString()).isEqualTo(1);
                assertThat(outcome.acknowledged()).isEqualTo(4);
                assertThat(outcome.exitCode()).isEqualTo(1);
            }
            assertThat(peer.connections).hasSize(1);
            assertThat(peer.linesWith(T + 1)).hasSize(1);
        }
    }

    /**
     * A server whose bug is persistent: it fails the first reading of every connection, each time followed by an
     * ack covering it. That ack belongs to a connection the sensor has already given up; if it were read it would
     * reset the backoff and the sensor would knock again at the first step forever. So the delays must grow.
     */
    @Test
    @Timeout(30)
    void theAckBehindAnInternalErrorDoesNotResetTheBackoff() throws Exception {
        String internal = ",\"reason\":\"" + RejectReason.INTERNAL.label() + "\"";
        try (var peer = new Peer((n, index) -> index == 2 ? error(2, internal) + "{\"ack\":2}\n" : "")) {
            // Steps of 100, 200, 400, 800 ms; each delay is in the upper half of its step.
            try (var fleet = sensor("tenace", 1, settings(peer.port(),
                    new Backoff.Policy(Duration.ofMillis(100), Duration.ofSeconds(5))))) {

                // The one reading, sent on five connections in a row.
                await().atMost(Duration.ofSeconds(15)).until(() -> peer.linesWith(T).size() >= 5);
                assertThat(fleet.outcome().acknowledged()).isZero();
                assertThat(fleet.outcome().rejected()).isZero();
            }
            // Reconnection 4 follows the fourth failure in a row: at least 400 ms (the first step would be <= 100).
            long gapMillis = TimeUnit.NANOSECONDS.toMillis(peer.acceptedNanos.get(4) - peer.acceptedNanos.get(3));
            assertThat(gapMillis).isGreaterThanOrEqualTo(350);
        }
    }

    /**
     * A server that acknowledges the acks request (value 1) before failing on every reading still fails: that ack
     * must not reset the backoff, or the sensor would retry every 200 ms forever.
     */
    @Test
    @Timeout(30)
    void anAckOfTheAcksRequestAloneDoesNotResetTheBackoff() throws Exception {
        String internal = ",\"reason\":\"" + RejectReason.INTERNAL.label() + "\"";
        try (var peer = new Peer((n, index) -> index == 1 ? "{\"ack\":1}\n" : index == 2 ? error(2, internal) : "")) {
            try (var fleet = sensor("tenace", 1, settings(peer.port(),
                    new Backoff.Policy(Duration.ofMillis(100), Duration.ofSeconds(5))))) {
                await().atMost(Duration.ofSeconds(15)).until(() -> peer.linesWith(T).size() >= 5);
                assertThat(fleet.outcome().acknowledged()).isZero();
            }
            long gapMillis = TimeUnit.NANOSECONDS.toMillis(peer.acceptedNanos.get(4) - peer.acceptedNanos.get(3));
            assertThat(gapMillis).isGreaterThanOrEqualTo(350);
        }
    }
}
