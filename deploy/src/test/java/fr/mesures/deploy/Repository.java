package fr.mesures.deploy;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository's root: the build context of the images and the folder of docker-compose.yml. */
final class Repository {

    private Repository() {
    }

    static Path root() {
        // Set by the failsafe configuration; the fallback serves a run from an IDE in deploy/.
        Path root = Path.of(System.getProperty("mesures.root", "..")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(root.resolve("docker-compose.yml"))) {
            throw new IllegalStateException("no docker-compose.yml in " + root + ": set -Dmesures.root");
        }
        return root;
    }
}
