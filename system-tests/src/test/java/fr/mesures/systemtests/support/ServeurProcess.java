package fr.mesures.systemtests.support;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code java -jar serveur/target/serveur.jar} as a process of its own, listening on 127.0.0.1 only, so that a
 * test can kill it (SIGKILL: no shutdown hook, no flush), stop it (SIGTERM), and watch its heap and threads from
 * outside. Every start appends to the same log file, so a failure shows the whole story of a database.
 */
public final class ServeurProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("serveur listening on [^:]+:(\\d+) \\(HTTP (\\d+|off)\\)");
    private static final Pattern ERROR_LINE = Pattern.compile("(?m)^\\S+ ERROR .*$");

    private final Process process;
    private final Path log;
    private final int port;
    private final int httpPort;
    private final Config config;

    /** How to start a server; {@link #start()} can be called again after a kill to restart on the same port. */
    public static final class Config {
        private final Path log;
        private final String store;
        private final List<String> jvm = new ArrayList<>(List.of("-Xmx256m", "-XX:+ExitOnOutOfMemoryError"));
        private final List<String> args = new ArrayList<>();
        private int port;

        private Config(Path log, String store) {
            this.log = log;
            this.store = store;
        }

        /** Replaces the default JVM options ({@code -Xmx256m -XX:+ExitOnOutOfMemoryError}). */
        public Config jvm(String... options) {
            jvm.clear();
            jvm.addAll(List.of(options));
            return this;
        }

        public Config args(String... more) {
            args.addAll(List.of(more));
            return this;
        }

        /** A fixed port (sensors are told where to reconnect); 0, the default, picks a free one. */
        public Config port(int fixed) {
            this.port = fixed;
            return this;
        }

        public ServeurProcess start() throws IOException {
            return ServeurProcess.start(this);
        }
    }

    /** @param store {@code sqlite:PATH} or {@code file:PATH} */
    public static Config with(Path log, String store) {
        return new Config(log, store);
    }

    private ServeurProcess(Process process, Config config, int port, int httpPort) {
        this.process = process;
        this.log = config.log;
        this.config = config;
        this.port = port;
        this.httpPort = httpPort;
    }

    private static ServeurProcess start(Config config) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Jars.java());
        command.addAll(config.jvm);
        command.addAll(List.of("-jar", Jars.serveur().toString(), "--bind", "127.0.0.1",
                "--port", String.valueOf(config.port), "--http-port", "0", "--store", config.store));
        command.addAll(config.args);
        long from = Files.exists(config.log) ? Files.size(config.log) : 0;
        Files.writeString(config.log, "==== start: " + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        Process process = Children.start(new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(config.log.toFile())));
        Matcher[] found = new Matcher[1];
        try {
            // Generous: the machine is shared, and a JVM with Flyway takes 1-2 s when it is quiet.
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(50)).until(() -> {
                String text = read(config.log, from);
                Matcher m = LISTENING.matcher(text);
                if (m.find()) {
                    found[0] = m;
                    return true;
                }
                if (!process.isAlive()) {
                    throw new IllegalStateException("the server exited with " + process.exitValue() + ":\n" + text);
                }
                return false;
            });
        } catch (RuntimeException e) {
            process.destroyForcibly();
            throw e;
        }
        String http = found[0].group(2);
        return new ServeurProcess(process, config, Integer.parseInt(found[0].group(1)),
                http.equals("off") ? -1 : Integer.parseInt(http));
    }

    /** Starts the same server again (same store, same port), after this one died. */
    public ServeurProcess restart() throws IOException {
        if (process.isAlive()) {
            throw new IllegalStateException("still running");
        }
        return config.port(port).start();
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    public Process process() {
        return process;
    }

    public Metrics metrics() {
        return new Metrics(HttpGet.get(httpPort, "/metrics").body());
    }

    /** {@code GET /health}, read. */
    public Health health() {
        HttpGet.Response response = HttpGet.get(httpPort, "/health");
        return Health.parse(response.status(), response.body());
    }

    /**
     * What {@code GET /health} says: its HTTP status (200 healthy, 503 not) and, from its JSON, whether the store
     * can be written, why not ({@code null} when it can), and how many values wait to be handled.
     */
    public record Health(int status, boolean writable, String problem, long queued) {

        private static final ObjectMapper JSON = new ObjectMapper();

        static Health parse(int status, String body) {
            try {
                JsonNode health = JSON.readTree(body);
                JsonNode store = health.required("store");
                JsonNode writable = store.required("writable");
                JsonNode queued = health.required("queued");
                if (!writable.isBoolean() || !queued.isIntegralNumber()) {
                    throw new IllegalStateException("unexpected /health (" + status + "): " + body);
                }
                JsonNode problem = store.get("problem");
                return new Health(status, writable.booleanValue(), problem == null ? null : problem.asText(),
                        queued.longValue());
            } catch (JsonProcessingException | IllegalArgumentException e) {
                throw new IllegalStateException("unreadable /health (" + status + "): " + body, e);
            }
        }
    }

    /** SIGKILL, as the kernel's OOM killer or a power supply would do it: nothing runs after it. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("server " + pid() + " survived SIGKILL for 30 s");
        }
    }

    /** SIGTERM, as a service manager stops a service; returns at once. */
    public void terminate() {
        process.destroy();
    }

    /** Heap in use right after a full GC ({@code jcmd PID GC.run}), from the server's own JVM metrics. */
    public long heapAfterGc() throws IOException, InterruptedException {
        jcmd("GC.run");
        return (long) metrics().sum("jvm_memory_used_bytes", "area=\"heap\"");
    }

    private static final Pattern HISTOGRAM_TOTAL = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$");

    /**
     * Bytes of the objects alive right now, as {@code jcmd PID GC.class_histogram} counts them after the full GC
     * it starts. Unlike {@link #heapAfterGc()}, whose scrape comes a moment after its GC, nothing the server
     * allocates meanwhile is counted: the figure to take while an attack is still allocating at full speed.
     */
    public long liveHeap() throws IOException, InterruptedException {
        String histogram = jcmd("GC.class_histogram");
        Matcher total = HISTOGRAM_TOTAL.matcher(histogram);
        if (!total.find()) {
            throw new IllegalStateException("no total in jcmd GC.class_histogram: "
                    + histogram.substring(Math.max(0, histogram.length() - 500)));
        }
        return Long.parseLong(total.group(1));
    }

    private String jcmd(String command) throws IOException, InterruptedException {
        ShortCommand.Result jcmd = ShortCommand.run(Duration.ofSeconds(60), Jars.jcmd(), Long.toString(pid()),
                command);
        if (jcmd.exitCode() != 0) {
            throw new IllegalStateException("jcmd " + command + " failed: " + jcmd.output());
        }
        return jcmd.output();
    }

    /**
     * The server's writer thread as {@code /proc} shows it, found once by its name ({@code serveur-writer}); its
     * {@link WriterThread#syscall()} then reads one small file, cheap enough to poll in a tight loop.
     */
    public WriterThread writerThread() {
        Path tasks = Path.of("/proc", Long.toString(pid()), "task");
        try (var list = Files.list(tasks)) {
            for (Path task : (Iterable<Path>) list::iterator) {
                try {
                    if (Files.readString(task.resolve("comm")).trim().equals("serveur-writer")) {
                        return new WriterThread(task.resolve("syscall"));
                    }
                } catch (IOException e) {
                    // a thread that ended while we looked
                }
            }
        } catch (IOException e) {
            // no /proc here: the thread cannot be seen
        }
        return new WriterThread(null);
    }

    /** One thread's {@code /proc/PID/task/TID/syscall}, or {@code null} when it could not be found. */
    public record WriterThread(Path syscallFile) {

        /**
         * What the thread is doing right now: the number of the system call it is blocked in (e.g. 75 = fdatasync
         * on x86-64, see {@link Syscalls}), {@code running} when it is executing, or {@code ?} when it cannot be
         * seen. Used to aim SIGKILL at a commit.
         */
        public String syscall() {
            if (syscallFile == null) {
                return "?";
            }
            try {
                String syscall = Files.readString(syscallFile).trim();
                int space = syscall.indexOf(' ');
                return space < 0 ? syscall : syscall.substring(0, space);
            } catch (IOException e) {
                return "?"; // the thread, or the process, has ended
            }
        }
    }

    public String logText() {
        return read(log, 0);
    }

    /** Lines logged at ERROR: the server caught something it did not expect. */
    public List<String> errorLines() {
        Matcher m = ERROR_LINE.matcher(logText());
        List<String> lines = new ArrayList<>();
        while (m.find()) {
            lines.add(m.group());
        }
        return lines;
    }

    /** The last lines of the log, for failure messages. */
    public String logTail(int lines) {
        List<String> all = logText().lines().collect(Collectors.toList());
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** Waits for the process to end by itself. */
    public boolean waitFor(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** SIGTERM, then SIGKILL if it has not ended in 40 s: a test never leaves a server behind. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(40, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    private static String read(Path log, long from) {
        try {
            byte[] bytes = Files.readAllBytes(log);
            int start = (int) Math.min(from, bytes.length);
            return new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
