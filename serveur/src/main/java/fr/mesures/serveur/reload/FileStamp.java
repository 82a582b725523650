package fr.mesures.serveur.reload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

/**
 * What a poll sees of a file without reading it: modification time, size and file key (device and inode on Unix).
 * The key catches a file replaced by a rename (certbot, {@code PemFileWriter}) or a Kubernetes secret's symbolic
 * link swapped to a new directory, even when time and size happen to be the same. Links are followed, so the
 * stamp is the target's.
 *
 * @param problem why the file could not be looked at ({@code missing}...), or null
 */
record FileStamp(Path file, FileTime modified, long size, Object key, String problem) {

    static List<FileStamp> of(List<Path> files) {
        List<FileStamp> stamps = new ArrayList<>(files.size());
        for (Path file : files) {
            stamps.add(of(file));
        }
        return stamps;
    }

    static FileStamp of(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return new FileStamp(file, attributes.lastModifiedTime(), attributes.size(), attributes.fileKey(), null);
        } catch (NoSuchFileException e) {
            return new FileStamp(file, null, -1, null, "missing");
        } catch (IOException e) {
            return new FileStamp(file, null, -1, null, e.toString());
        }
    }
}
