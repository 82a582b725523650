package fr.mesures.capteur.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The real server as a separate JVM (its own process, so it can be killed with SIGKILL), listening on 127.0.0.1
 * only. Stopped through its handle, never by name.
 */
final class ServerProcess implements AutoCloseable {

    private final Process process;
    final int port;

    private ServerProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static ServerProcess start(int port, Path database, Path log) throws IOException, InterruptedException {
        Process process = Java.start(log, Map.of(), List.of("-Xmx256m",
                "-cp", System.getProperty("java.class.path"), "fr.mesures.serveur.cli.Main",
                "--bind", "127.0.0.1", "--port", String.valueOf(port), "--http-port", "-1",
                "--store", "sqlite:" + database));
        ServerProcess server = new ServerProcess(process, port);
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(server::accepting);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    boolean accepting() {
        if (!process.isAlive()) {
            throw new IllegalStateException("the server process exited with " + process.exitValue());
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** SIGKILL: no shutdown hook, no flush, sockets reset by the kernel. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** A port that was free a moment ago on 127.0.0.1. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor();
        }
    }
}
