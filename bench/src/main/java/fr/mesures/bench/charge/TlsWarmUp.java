package fr.mesures.bench.charge;

import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.KeyFormat;
import fr.mesures.common.tls.PrivatePki;
import fr.mesures.common.tls.ServerTls;
import fr.mesures.common.tls.Validity;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * Compiles the load generator's TLS client code before anything is timed: full handshakes between a client and a
 * server engine in this process, over memory, with a throwaway authority and certificate of the benchmark's kind
 * (EC P-256, the name checked). The generator starts as a cold JVM on every run, and a cold JVM's first handshakes
 * are several times slower (its elliptic-curve arithmetic is interpreted until the JIT has compiled it): without
 * this, timing a thousand handshakes at once would time the generator's JIT as much as the server. Nothing reaches
 * the server.
 */
final class TlsWarmUp {

    /** Far more steps than a handshake takes: a loop that makes no progress is a bug, not a slow machine. */
    private static final int MAX_STEPS = 1_000;
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

    private TlsWarmUp() {
    }

    /**
     * Makes {@code handshakes} full handshakes in memory.
     *
     * @return how long they took, in seconds
     */
    static double run(int handshakes) throws IOException {
        long start = System.nanoTime();
        Path dir = Files.createTempDirectory("charge-tls-warmup");
        try {
            PrivatePki pki = PrivatePki.create(dir, List.of("localhost"), Validity.fromNow(Duration.ofHours(1)),
                    KeyFormat.PKCS8);
            ServerTls server = pki.server();
            ClientTls client = pki.client();
            for (int i = 0; i < handshakes; i++) {
                // A session-cache key of its own each time, as the load's connections have: full handshakes only.
                handshake(client.newEngine("localhost", 1 + i % 65_535), server.newEngine());
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /** One handshake, each engine's records handed to the other through a buffer, until neither is handshaking. */
    static void handshake(SSLEngine client, SSLEngine server) throws SSLException {
        int size = Math.max(client.getSession().getPacketBufferSize(), server.getSession().getPacketBufferSize());
        // Each buffer stays in write mode between steps: its producer wraps into it, its consumer flips, unwraps
        // what it can and compacts.
        ByteBuffer toServer = ByteBuffer.allocate(4 * size);
        ByteBuffer toClient = ByteBuffer.allocate(4 * size);
        ByteBuffer plain = ByteBuffer.allocate(client.getSession().getApplicationBufferSize());
        client.beginHandshake();
        server.beginHandshake();
        for (int step = 0; step < MAX_STEPS; step++) {
            if (done(client) && done(server)) {
                return;
            }
            step(client, toServer, toClient, plain);
            step(server, toClient, toServer, plain);
        }
        throw new IllegalStateException("a TLS warm-up handshake did not finish in " + MAX_STEPS + " steps");
    }

    private static boolean done(SSLEngine engine) {
        HandshakeStatus status = engine.getHandshakeStatus();
        return status == HandshakeStatus.NOT_HANDSHAKING || status == HandshakeStatus.FINISHED;
    }

    private static void step(SSLEngine engine, ByteBuffer out, ByteBuffer in, ByteBuffer plain) throws SSLException {
        switch (engine.getHandshakeStatus()) {
            case NEED_TASK -> {
                Runnable task;
                while ((task = engine.getDelegatedTask()) != null) {
                    task.run();
                }
            }
            case NEED_WRAP -> engine.wrap(NOTHING, out);
            case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                in.flip();
                engine.unwrap(in, plain);
                in.compact();
                plain.clear();
            }
            default -> {
                // Done: the other engine may still have a step to take.
            }
        }
    }
}
