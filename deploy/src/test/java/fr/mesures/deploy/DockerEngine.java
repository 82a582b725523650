package fr.mesures.deploy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;

/** The extension behind {@link RequiresDocker}: looks for the engine and the CLI once per test run. */
final class DockerEngine implements ExecutionCondition, BeforeAllCallback {

    /** Why Docker cannot be used here, or empty when it can. */
    private static Optional<String> problem;

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<String> missing = problem();
        if (missing.isEmpty()) {
            return ConditionEvaluationResult.enabled("a Docker engine answers");
        }
        if (ci()) {
            // Run, so that beforeAll fails the class with the reason.
            return ConditionEvaluationResult.enabled("CI=true: a missing Docker engine is a failure");
        }
        String reason = "Docker tests skipped: " + missing.get()
                + " (start a Docker engine to run them; with CI=true this is a failure)";
        System.err.println("[" + context.getDisplayName() + "] " + reason);
        return ConditionEvaluationResult.disabled(reason);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        problem().ifPresent(missing -> {
            throw new AssertionError("CI=true but the Docker tests cannot run: " + missing);
        });
    }

    static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    private static synchronized Optional<String> problem() {
        if (problem == null) {
            problem = find();
        }
        return problem;
    }

    private static Optional<String> find() {
        boolean available;
        try {
            available = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            // An engine answered but Testcontainers could not set itself up: a failure, never a reason to skip.
            throw new AssertionError("Testcontainers cannot use the Docker engine: " + e.getMessage()
                    + " (without a container registry set TESTCONTAINERS_RYUK_DISABLED=true and"
                    + " TESTCONTAINERS_HOST_OVERRIDE=localhost)", e);
        }
        if (!available) {
            return Optional.of("no Docker engine answers (DOCKER_HOST="
                    + Optional.ofNullable(System.getenv("DOCKER_HOST")).orElse("unset") + ")");
        }
        try {
            Command.Result version = Command.run(Repository.root(), Map.of(), Duration.ofSeconds(30),
                    List.of("docker", "version", "--format", "{{.Server.Version}}"));
            if (!version.succeeded()) {
                return Optional.of("`docker version` failed: " + version.stderr().strip());
            }
        } catch (RuntimeException e) {
            return Optional.of("no docker command on the PATH (" + e.getMessage() + ")");
        }
        return Optional.empty();
    }
}
