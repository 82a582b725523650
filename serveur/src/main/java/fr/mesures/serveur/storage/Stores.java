package fr.mesures.serveur.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens the store a {@link StoreSpec} names. */
public final class Stores {

    private Stores() {
    }

    /**
     * Opens (and creates or migrates) the store.
     *
     * @param unacknowledged the most readings the server may hold between receiving and acknowledging, which a
     *                       store without an index must remember to recognise resends
     * @throws StoreException with a one-line reason when the path cannot be written
     */
    public static MesureStore open(StoreSpec spec, SqliteStore.Options sqlite, int unacknowledged)
            throws StoreException {
        Path parent = spec.path().toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new StoreException("cannot create the directory " + parent + ": " + e.getMessage(), e);
        }
        if (!Files.isWritable(parent)) {
            throw new StoreException("cannot write to the directory " + parent);
        }
        if (Files.exists(spec.path()) && !Files.isWritable(spec.path())) {
            throw new StoreException("cannot write to " + spec.path());
        }
        return switch (spec.kind()) {
            case SQLITE -> SqliteStore.open(spec.path(), sqlite);
            case FILE -> FileStore.open(spec.path(), unacknowledged);
        };
    }
}
