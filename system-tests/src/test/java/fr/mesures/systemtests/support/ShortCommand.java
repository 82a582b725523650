package fr.mesures.systemtests.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A tool the tests call and wait for (jcmd, mount, umount), within a time limit. Its output goes to a file, not a
 * pipe: reading a pipe blocks until the program ends and ignores interrupts, so a hung program would hang the
 * test past its limit; waitFor on a process with its output in a file returns when the limit is reached.
 */
final class ShortCommand {

    /** A finished program: its exit code and what it printed (standard output and error together). */
    record Result(int exitCode, String output) {
    }

    private ShortCommand() {
    }

    /**
     * Runs {@code command} and waits for it.
     *
     * @throws IOException           when it cannot be started (the program is missing, for instance)
     * @throws IllegalStateException when it has not ended within {@code limit}; it is killed first
     */
    static Result run(Duration limit, String... command) throws IOException, InterruptedException {
        Path output = Files.createTempFile("system-tests-command", ".out");
        try {
            Process process = Children.start(new ProcessBuilder(List.of(command)).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(output.toFile()));
            boolean finished = false;
            try {
                finished = process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
            } finally {
                // On time out, and when the test itself is interrupted (its @Timeout): nothing keeps running.
                if (!finished) {
                    process.destroyForcibly();
                }
            }
            // Lenient decoding: a tool's message in another encoding must not hide its exit code.
            String text = new String(Files.readAllBytes(output), StandardCharsets.UTF_8);
            if (!finished) {
                throw new IllegalStateException("`" + String.join(" ", command) + "` did not end within "
                        + limit.toSeconds() + " s; it printed:\n" + text);
            }
            return new Result(process.exitValue(), text);
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
