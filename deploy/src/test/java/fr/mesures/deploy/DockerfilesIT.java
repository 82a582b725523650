package fr.mesures.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The two Dockerfiles as text; needs no Docker engine. Their build stages must stay identical line for line
 * (their own comment says so): the builder then reuses one stage's layers for the other, and one Maven run in the
 * cache makes both jars. An edit to one file only would silently double the build time.
 */
class DockerfilesIT {

    private static final String BUILD = "# ---- build";
    private static final String RUN = "# ---- run";

    @Test
    void bothDockerfilesHaveTheSameBuildStage() throws IOException {
        List<String> serveur = buildStage("Dockerfile.serveur");
        List<String> capteur = buildStage("Dockerfile.capteur");
        assertThat(serveur).as("build stage of Dockerfile.serveur").anyMatch(line -> line.startsWith("FROM "));
        assertThat(capteur).as("build stage of Dockerfile.capteur, line for line as in Dockerfile.serveur")
                .containsExactlyElementsOf(serveur);
    }

    /** The lines from the "# ---- build" marker to the "# ---- run" marker, both excluded. */
    private static List<String> buildStage(String dockerfile) throws IOException {
        List<String> lines = Files.readAllLines(Repository.root().resolve(dockerfile));
        int from = indexOf(lines, BUILD, dockerfile);
        int to = indexOf(lines, RUN, dockerfile);
        assertThat(to).as("%s: %s after %s", dockerfile, RUN, BUILD).isGreaterThan(from);
        return lines.subList(from + 1, to);
    }

    private static int indexOf(List<String> lines, String marker, String dockerfile) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(marker)) {
                return i;
            }
        }
        throw new AssertionError(dockerfile + " has no line starting with \"" + marker + "\"");
    }
}
