package fr.mesures.capteur.it;

import fr.mesures.capteur.cli.CapteurCommand;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs the {@code capteur} command in this JVM, as {@code java -jar capteur.jar ARGS} would, minus the exit. */
final class Commands {

    private Commands() {
    }

    static int capteur(String... args) {
        return capteur(InputStream.nullInputStream(), args);
    }

    static int capteur(InputStream stdin, String... args) {
        return capteur(stdin, java.util.Map.of(), args);
    }

    static int capteur(InputStream stdin, java.util.Map<String, String> environment, String... args) {
        return run(stdin, environment, args).code();
    }

    /** What the command returned and wrote on standard error. */
    record Result(int code, String err) {
    }

    static Result run(String... args) {
        return run(InputStream.nullInputStream(), java.util.Map.of(), args);
    }

    static Result run(InputStream stdin, java.util.Map<String, String> environment, String... args) {
        CommandLine cl = CapteurCommand.commandLine(new CapteurCommand(stdin, environment));
        var err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        if (code != 0) {
            System.err.println("capteur " + String.join(" ", args) + " -> " + code + ": " + err);
        }
        return new Result(code, err.toString());
    }
}
