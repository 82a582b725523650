package fr.mesures.common.files;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Replaces a file in one rename, so that a reader (a server re-reading its credentials or its certificate) sees the
 * old file or the new one, never half of one; a secret is created readable by its owner alone from its first byte.
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /**
     * Writes {@code text} (UTF-8) to a temporary file beside {@code file}, then renames it over {@code file}.
     *
     * @param secret owner-only ({@code rw-------}) where the file system has POSIX permissions, else {@code rw-r--r--}
     */
    public static void replace(Path file, String text, boolean secret) throws IOException {
        Path absolute = file.toAbsolutePath();
        Path directory = absolute.getParent();
        Files.createDirectories(directory);
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        FileAttribute<?>[] attributes = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--"))}
                : new FileAttribute<?>[0];
        // Created with its final permissions, so a secret is never readable by others, even for an instant.
        Path temporary = Files.createTempFile(directory, "." + absolute.getFileName(), ".tmp", attributes);
        try {
            Files.writeString(temporary, text, StandardCharsets.UTF_8);
            try {
                Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
