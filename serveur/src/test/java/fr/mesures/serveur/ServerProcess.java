package fr.mesures.serveur;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The server in a JVM of its own (so that its heap, its syscalls and its death are its own). */
final class ServerProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("listening on [^:]+:(\\d+) \\(HTTP (\\d+|off)\\)");

    final Process process;
    final Path log;
    final int port;
    final int httpPort;

    private ServerProcess(Process process, Path log, int port, int httpPort) {
        this.process = process;
        this.log = log;
        this.port = port;
        this.httpPort = httpPort;
    }

    /**
     * Starts {@code prefix... java jvmOptions... Main --bind 127.0.0.1 --port 0 --http-port 0 serverArgs...} and
     * waits until it listens.
     */
    static ServerProcess start(Path dir, List<String> prefix, List<String> jvmOptions, String... serverArgs)
            throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "fr.mesures.serveur.cli.Main",
                "--bind", "127.0.0.1", "--port", "0", "--http-port", "0"));
        command.addAll(List.of(serverArgs));
        Path log = Files.createTempFile(dir, "serveur", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        Matcher[] found = new Matcher[1];
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("server exited: " + Files.readString(log));
                }
                Matcher m = LISTENING.matcher(Files.readString(log));
                found[0] = m;
                return m.find();
            });
        } catch (RuntimeException e) {
            // The JVM first: killing a wrapper such as strace would leave it running.
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            throw e;
        }
        String http = found[0].group(2);
        return new ServerProcess(process, log, Integer.parseInt(found[0].group(1)),
                http.equals("off") ? -1 : Integer.parseInt(http));
    }

    /** The JVM's process id (the started process may be a wrapper such as strace). */
    long pid() {
        return process.descendants().filter(p -> p.info().command().orElse("").endsWith("java"))
                .mapToLong(ProcessHandle::pid).findFirst().orElse(process.pid());
    }

    /** A metric of the server's {@code /metrics}, summed over the series with these labels; see {@link Probe#metric}. */
    double metric(String name, String... labelValuePairs) {
        return Probe.metric(Probe.scrape(httpPort), name, labelValuePairs);
    }

    /**
     * SIGTERM to the JVM, as a service manager would send it; a wrapper ends with it. Returns once the JVM itself
     * has exited, not only the wrapper (strace may exit first), so that its port and files are free.
     */
    @Override
    public void close() throws InterruptedException {
        Optional<ProcessHandle> jvm = ProcessHandle.of(pid());
        jvm.ifPresent(ProcessHandle::destroy);
        process.destroy();
        if (!process.waitFor(40, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        if (jvm.isPresent()) {
            awaitExit(jvm.get());
        }
    }

    private static void awaitExit(ProcessHandle jvm) throws InterruptedException {
        try {
            jvm.onExit().get(40, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            jvm.destroyForcibly();
            try {
                jvm.onExit().get(10, TimeUnit.SECONDS);
            } catch (TimeoutException | ExecutionException stillThere) {
                throw new IllegalStateException("the server's JVM " + jvm.pid() + " did not exit", stillThere);
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("waiting for the server's JVM " + jvm.pid(), e);
        }
    }
}
