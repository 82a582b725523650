package fr.mesures.systemtests.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code java -jar capteur/target/capteur.jar ARGS} as a process of its own, its output in a log file. */
public final class CapteurProcess implements AutoCloseable {

    private final Process process;
    private final Path log;

    private CapteurProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static CapteurProcess start(Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Jars.java(), "-Xmx256m", "-jar", Jars.capteur().toString()));
        command.addAll(List.of(args));
        Process process = Children.start(new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())));
        return new CapteurProcess(process, log);
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** The exit code, or -1 if it did not end in time. */
    public int waitFor(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    public String output() {
        try {
            return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }
}
