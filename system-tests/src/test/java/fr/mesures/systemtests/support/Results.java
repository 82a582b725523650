package fr.mesures.systemtests.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * The numbers a test measured, printed and appended to {@code target/reliability-results.txt}: the source of the
 * results table in docs/reliability.md.
 */
public final class Results {

    private Results() {
    }

    public static void record(String test, String line) {
        String text = Instant.now() + " " + test + ": " + line;
        System.out.println(text);
        Path file = Path.of(System.getProperty("results.file", "target/reliability-results.txt"));
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, text + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("cannot append to " + file + ": " + e.getMessage());
        }
    }
}
