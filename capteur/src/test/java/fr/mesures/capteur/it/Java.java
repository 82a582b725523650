package fr.mesures.capteur.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Starts another JVM, the one running the tests, so that the programs are tested as they are run. */
final class Java {

    private Java() {
    }

    /**
     * @param log         where standard output and standard error both go, appended (a restarted server keeps one
     *                    log)
     * @param environment variables added to this process's environment
     * @param arguments   the JVM's arguments: options, then {@code -jar JAR} or {@code -cp PATH MAIN}, then the
     *                    program's
     */
    static Process start(Path log, Map<String, String> environment, List<String> arguments) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(arguments);
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(environment);
        return builder.start();
    }
}
