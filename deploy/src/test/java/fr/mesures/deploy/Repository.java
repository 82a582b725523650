package fr.mesures.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The repository's root: the build context of the images and the folder of docker-compose.yml. */
final class Repository {

    private static final Pattern SERVICE = Pattern.compile("^  ([A-Za-z0-9_.-]+):\\s*(#.*)?$");
    private static final Pattern IMAGE = Pattern.compile("^    image:\\s*[\"']?([^\"'\\s#]+)[\"']?\\s*(#.*)?$");

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

    /**
     * The {@code image:} of a service of docker-compose.yml, so that a test runs what the compose file runs. Read
     * line by line (the module has no YAML parser): a service is a key indented by two spaces under
     * {@code services:}, its image a key indented by four.
     */
    static String composeImage(String service) {
        List<String> lines = lines(root().resolve("docker-compose.yml"));
        boolean inServices = false;
        String current = null;
        for (String line : lines) {
            if (!line.isEmpty() && !Character.isWhitespace(line.charAt(0)) && !line.startsWith("#")) {
                inServices = line.startsWith("services:");
                current = null;
                continue;
            }
            if (!inServices) {
                continue;
            }
            Matcher name = SERVICE.matcher(line);
            if (name.matches()) {
                current = name.group(1);
                continue;
            }
            Matcher image = IMAGE.matcher(line);
            if (service.equals(current) && image.matches()) {
                return image.group(1);
            }
        }
        throw new IllegalStateException("no image: for the service " + service + " in docker-compose.yml");
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
