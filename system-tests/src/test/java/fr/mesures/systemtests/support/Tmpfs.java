package fr.mesures.systemtests.support;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A small tmpfs of its own, so that a test can fill a disk without filling the machine's. Needs root (or
 * CAP_SYS_ADMIN); where it cannot be mounted the test is skipped with the reason, not failed.
 */
public final class Tmpfs implements AutoCloseable {

    private final Path dir;

    private Tmpfs(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code size} (e.g. {@code 64m}) on {@code dir}, or aborts the test with the reason. */
    public static Tmpfs mount(Path dir, String size) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Run run = run("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", dir.toString());
        assumeTrue(run.code == 0, () -> "cannot mount a tmpfs on " + dir + " here (needs root or CAP_SYS_ADMIN): "
                + run.output.strip());
        return new Tmpfs(dir);
    }

    public Path dir() {
        return dir;
    }

    /**
     * Fills the file system: writes {@code name} until the kernel says "no space left". Returns its size.
     */
    public long fill(String name) throws IOException {
        Path filler = dir.resolve(name);
        byte[] chunk = new byte[64 * 1024];
        long written = 0;
        try (var out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(chunk);
                written += chunk.length;
                out.flush();
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
        }
        // Byte by byte for the last few hundred: nothing left, not even a block's tail.
        try (var out = Files.newOutputStream(filler, java.nio.file.StandardOpenOption.APPEND)) {
            for (int i = 0; i < chunk.length; i++) {
                out.write(0);
                out.flush();
                written++;
            }
        } catch (IOException e) {
            // full
        }
        return written;
    }

    /** Unmounts; lazily if something still holds a file there. */
    @Override
    public void close() throws IOException, InterruptedException {
        if (run("umount", dir.toString()).code != 0) {
            run("umount", "-l", dir.toString());
        }
    }

    private record Run(int code, String output) {
    }

    private static Run run(String... command) throws InterruptedException {
        try {
            ShortCommand.Result result = ShortCommand.run(Duration.ofSeconds(30), command);
            return new Run(result.exitCode(), result.output());
        } catch (IOException | IllegalStateException e) {
            // Not there, or hung (and killed): either way this machine cannot give the test its disk.
            return new Run(-1, e.getMessage());
        }
    }
}
