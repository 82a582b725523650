package fr.mesures.capteur.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.capteur.CapteurFleet;
import fr.mesures.capteur.CapteurSettings;
import fr.mesures.capteur.network.Backoff;
import fr.mesures.capteur.source.LimitedSource;
import fr.mesures.capteur.source.SimulatedTemperatures;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Protocol edge cases that the real server does not produce on demand (a server that stops acknowledging, a
 * connection that dies right after a partial acknowledgement), played by a small scripted peer standing in for
 * the server. The sensor under test is the real one.
 */
class ScriptedPeerTest {

    private static final long T = 1_764_000_000_000L;

    /** Accepts connections on 127.0.0.1 and plays a script on each, on its own thread. */
    private static final class Peer implements AutoCloseable {
        final ServerSocket socket;
        final List<List<String>> connections = new CopyOnWriteArrayList<>();
        private final Thread acceptor;

        Peer(BiConsumer<Integer, Socket> script) throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            acceptor = new Thread(() -> {
                try {
                    for (int n = 0; ; n++) {
                        Socket s = socket.accept();
                        int number = n;
                        connections.add(new CopyOnWriteArrayList<>());
                        Thread t = new Thread(() -> script.accept(number, s), "peer-" + n);
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

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            socket.close();
            acceptor.join(5000);
        }
    }

    private static CapteurSettings settings(int port, Duration ackTimeout) {
        return CapteurSettings.builder("127.0.0.1", port)
                .interval(Duration.ofMillis(5))
                .connectTimeout(Duration.ofSeconds(2))
                .ackTimeout(ackTimeout)
                .backoff(new Backoff.Policy(Duration.ofMillis(20), Duration.ofMillis(100)))
                .build();
    }

    @Test
    @Timeout(30)
    void aServerThatStopsAcknowledgingIsTakenForDeadAndEverythingIsSentAgain() throws Exception {
        Peer[] self = new Peer[1];
        try (var peer = new Peer((n, s) -> {
            try (s; var in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    self[0].connections.get(n).add(line); // reads everything, answers nothing
                }
            } catch (IOException e) {
                // the sensor gave up on this connection
            }
        })) {
            self[0] = peer;
            try (var fleet = CapteurFleet.startWithClocks(List.of("muet"), i -> new LimitedSource(new SimulatedTemperatures(1), 3),
                    settings(peer.port(), Duration.ofMillis(400)), i -> new AtomicLong(T)::getAndIncrement)) {

                await().atMost(Duration.ofSeconds(10)).until(() -> peer.connections.size() >= 2
                        && peer.connections.get(1).size() >= 4);
                List<String> first = peer.connections.get(0);
                List<String> second = peer.connections.get(1);
                assertThat(first.get(0)).isEqualTo("{\"acks\":true}");
                assertThat(second.get(0)).isEqualTo("{\"acks\":true}");
                assertThat(second.subList(1, 4)).isEqualTo(first.subList(1, 4));
                assertThat(second.get(1)).contains("\"timestamp\":" + T);
            }
        }
    }

    @Test
    @Timeout(30)
    void afterAPartialAckAndALostConnectionOnlyTheUnacknowledgedAreResentNumberedFromOne() throws Exception {
        Peer[] self = new Peer[1];
        try (var peer = new Peer((n, s) -> {
            try (s; var in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
                OutputStream out = s.getOutputStream();
                List<String> lines = self[0].connections.get(n);
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                    if (n == 0 && lines.size() == 4) {
                        // acks request + readings T and T+1 handled; then the server "crashes" politely
                        out.write("{\"ack\":3}\n".getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        s.shutdownOutput();
                    } else if (n > 0) {
                        out.write(("{\"ack\":" + lines.size() + "}\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                    }
                }
            } catch (IOException e) {
                // the sensor closed
            }
        })) {
            self[0] = peer;
            try (var fleet = CapteurFleet.startWithClocks(List.of("partiel"),
                    i -> new LimitedSource(new SimulatedTemperatures(1), 6),
                    settings(peer.port(), Duration.ofSeconds(10)), i -> new AtomicLong(T)::getAndIncrement)) {

                assertThat(fleet.awaitFinished(Duration.ofSeconds(20))).isTrue();
                assertThat(fleet.outcome().exitCode()).as(fleet.outcome().toString()).isZero();
            }
            List<String> second = peer.connections.get(1);
            assertThat(second.get(0)).isEqualTo("{\"acks\":true}");
            // T and T+1 were acknowledged on the first connection: the second starts at T+2 and holds all the rest.
            assertThat(second.subList(1, second.size()))
                    .allSatisfy(line -> assertThat(line).startsWith("{\"capteur_id\":\"partiel\""))
                    .extracting(line -> Long.parseLong(line.replaceAll(".*\"timestamp\":(\\d+).*", "$1")))
                    .containsExactly(T + 2, T + 3, T + 4, T + 5);
        }
    }
}
