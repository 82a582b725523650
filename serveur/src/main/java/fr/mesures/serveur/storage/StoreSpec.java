package fr.mesures.serveur.storage;

import java.nio.file.Path;

/**
 * Which store to use and where: {@code sqlite:PATH} (the default) or {@code file:PATH}.
 *
 * @param kind the store implementation
 * @param path the database file or the text file
 */
public record StoreSpec(Kind kind, Path path) {

    /** The two stores. */
    public enum Kind { SQLITE, FILE }

    /**
     * Parses {@code sqlite:data/mesures.db} or {@code file:donnees.txt}.
     *
     * @throws IllegalArgumentException with a message for a person
     */
    public static StoreSpec parse(String text) {
        int colon = text.indexOf(':');
        String path = colon < 0 ? "" : text.substring(colon + 1);
        if (colon < 0 || path.isBlank()) {
            throw new IllegalArgumentException("store must be sqlite:PATH or file:PATH, got '" + text + "'");
        }
        return switch (text.substring(0, colon)) {
            case "sqlite" -> new StoreSpec(Kind.SQLITE, Path.of(path));
            case "file" -> new StoreSpec(Kind.FILE, Path.of(path));
            default -> throw new IllegalArgumentException(
                    "store must be sqlite:PATH or file:PATH, got '" + text + "'");
        };
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + ":" + path;
    }
}
