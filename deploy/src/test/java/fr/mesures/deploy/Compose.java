package fr.mesures.deploy;

import com.github.dockerjava.api.model.Container;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.testcontainers.DockerClientFactory;

/**
 * docker-compose.yml, and the override files given after it, driven through the local Compose command, as a user
 * drives them: {@code docker compose} (v2, or the v1 shim some machines have) or else {@code docker-compose} (v1).
 * Every call has a time limit, under a project name of its own so that it never touches another copy of the stack,
 * and {@link #close()} removes the project's containers, networks and volumes (images stay, for the next run's
 * cache).
 */
final class Compose implements AutoCloseable {

    private final List<String> executable;
    private final Path root;
    private final String project;
    private final Map<String, String> environment;
    private final List<String> files;

    private Compose(List<String> executable, Path root, String project, Map<String, String> environment,
            List<String> files) {
        this.executable = executable;
        this.root = root;
        this.project = project;
        this.environment = environment;
        this.files = files;
    }

    /**
     * @param project     a project name no one else uses: it names the containers, network and volumes
     * @param environment variables for the compose file's substitutions (${...}) and pass-through settings
     */
    static Compose of(String project, Map<String, String> environment) {
        return of(project, environment, List.of("docker-compose.yml"));
    }

    /** @param files the compose files at the root, in order: docker-compose.yml, then its overrides */
    static Compose of(String project, Map<String, String> environment, List<String> files) {
        Path root = Repository.root();
        return new Compose(find(root), root, project, Map.copyOf(environment), List.copyOf(files));
    }

    /** {@code docker compose} when the docker CLI has it, else {@code docker-compose}. */
    private static List<String> find(Path root) {
        for (List<String> candidate : List.of(List.of("docker", "compose"), List.of("docker-compose"))) {
            var version = new ArrayList<>(candidate);
            version.add("version");
            try {
                if (Command.run(root, Map.of(), Duration.ofSeconds(30), version).succeeded()) {
                    return candidate;
                }
            } catch (RuntimeException e) {
                // Not installed: try the next one.
            }
        }
        throw new AssertionError("neither `docker compose` nor `docker-compose` works on this machine");
    }

    String project() {
        return project;
    }

    /** Compose's own description of itself, for the test log. */
    String version() {
        return run(Duration.ofSeconds(30), "version").orFail().stdout().lines().findFirst().orElse("?");
    }

    /** Runs {@code compose -p PROJECT -f docker-compose.yml [-f OVERRIDE...] ARGS...}; the caller checks the result. */
    Command.Result run(Duration limit, String... arguments) {
        var command = new ArrayList<>(executable);
        command.addAll(List.of("-p", project));
        for (String file : files) {
            command.addAll(List.of("-f", root.resolve(file).toString()));
        }
        command.addAll(List.of(arguments));
        return Command.run(root, environment, limit, command);
    }

    /** Runs a program in the service's container, without a terminal, as {@code compose exec -T} does. */
    String exec(String service, String... command) {
        var arguments = new ArrayList<>(List.of("exec", "-T", service));
        arguments.addAll(List.of(command));
        return run(Duration.ofSeconds(60), arguments.toArray(String[]::new)).orFail().stdout();
    }

    /** The service's containers, running or not, found by the labels Compose v1 and v2 both set. */
    List<Container> containers(String service) {
        Map<String, String> labels = new HashMap<>();
        labels.put("com.docker.compose.project", project);
        labels.put("com.docker.compose.service", service);
        return DockerClientFactory.instance().client().listContainersCmd().withShowAll(true)
                .withLabelFilter(labels).exec();
    }

    Container container(String service) {
        List<Container> found = containers(service);
        if (found.size() != 1) {
            throw new AssertionError("expected one container of " + service + ", found " + found.size());
        }
        return found.get(0);
    }

    /** Every container's log, for a person to read after a failure. */
    String logs() {
        Command.Result logs = run(Duration.ofMinutes(1), "logs", "--no-color", "-t");
        return logs.stdout() + logs.stderr();
    }

    /** Stops and removes the project's containers, network and volumes. */
    @Override
    public void close() {
        // SIGKILL after 10 s: the data is thrown away anyway.
        run(Duration.ofMinutes(3), "down", "-v", "--remove-orphans", "-t", "10").orFail();
    }
}
