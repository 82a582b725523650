package fr.mesures.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a program as a person would type it (docker, docker compose, docker-compose), within a time limit, and keeps
 * what it printed. Output goes to files rather than pipes, so a chatty program never blocks on a full pipe.
 */
final class Command {

    private Command() {
    }

    /** What a finished program left: its exit code, its output and how long it took. */
    record Result(List<String> command, int exitCode, String stdout, String stderr, Duration took) {

        boolean succeeded() {
            return exitCode == 0;
        }

        /** This result, or an AssertionError that shows the command and the end of its output. */
        Result orFail() {
            if (!succeeded()) {
                throw new AssertionError("`" + String.join(" ", command) + "` exited with " + exitCode + " after "
                        + took.toSeconds() + " s\n--- stdout\n" + tail(stdout) + "\n--- stderr\n" + tail(stderr));
            }
            return this;
        }
    }

    static Result run(Path directory, Map<String, String> environment, Duration limit, List<String> command) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("command", ".out");
            err = Files.createTempFile("command", ".err");
            ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            builder.environment().putAll(environment);
            long start = System.nanoTime();
            Process process = builder.start();
            boolean finished;
            try {
                finished = process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
            } finally {
                // On time out, and when the test itself is interrupted (JUnit's @Timeout): nothing keeps running.
                if (process.isAlive()) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                }
            }
            if (!finished) {
                throw new AssertionError("`" + String.join(" ", command) + "` did not finish within "
                        + limit.toSeconds() + " s\n--- stdout\n" + tail(Files.readString(out))
                        + "\n--- stderr\n" + tail(Files.readString(err)));
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            return new Result(List.copyOf(command), process.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8), took);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + command, e);
        } finally {
            delete(out);
            delete(err);
        }
    }

    static Result run(Path directory, Duration limit, String... command) {
        return run(directory, Map.of(), limit, List.of(command));
    }

    private static String tail(String text) {
        int keep = 6000;
        return text.length() <= keep ? text : "[...]" + text.substring(text.length() - keep);
    }

    private static void delete(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // A temporary file left behind is harmless.
            }
        }
    }
}
