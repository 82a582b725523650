package fr.mesures.serveur.cli;

import fr.mesures.serveur.auth.CapteurPattern;
import fr.mesures.serveur.auth.Credential;
import fr.mesures.serveur.auth.CredentialsException;
import fr.mesures.serveur.auth.CredentialsFile;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code serveur credentials add|list|revoke}: manages a credentials file so that nobody edits hashes by hand. A
 * running server re-reads the file on its own; a revoked credential's connections are closed when it does.
 */
@Command(name = "credentials", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Manages the credentials file of --credentials: who may write which capteur_id.",
        subcommands = {CredentialsCommand.Add.class, CredentialsCommand.ListCredentials.class,
                CredentialsCommand.Revoke.class})
final class CredentialsCommand {

    @Command(name = "add", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Adds a credential for a new random token and prints the token, once: it is kept nowhere"
                    + " (the file holds its SHA-256).")
    static final class Add implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--pattern", required = true, paramLabel = "PATTERN",
                description = "the capteur_ids it may write: capteur_1, salle_*, or *")
        String pattern;

        @Option(names = "--name", required = true, paramLabel = "NAME",
                description = "a name for logs and for revoking it, one word")
        String name;

        @Option(names = "--certificate", paramLabel = "SUBJECT",
                description = "instead of a token, map the client certificate with this subject (CN) to the pattern")
        String certificate;

        @Parameters(paramLabel = "FILE", description = "the credentials file (created if missing)")
        Path file;

        @Override
        public Integer call() {
            return run(spec, () -> {
                CapteurPattern parsed = CapteurPattern.parse(pattern);
                CredentialsFile credentials = new CredentialsFile(file);
                PrintWriter out = spec.commandLine().getOut();
                if (certificate != null) {
                    credentials.add(new Credential(name, Credential.Kind.CERTIFICATE, certificate, parsed));
                    out.println("the certificate " + certificate + " may now write " + parsed + " (as " + name + ")");
                } else {
                    // The token alone on standard output, for scripts; the advice on standard error.
                    out.println(credentials.addToken(name, parsed));
                    spec.commandLine().getErr().println("credentials: the token above is shown once; give it to the"
                            + " sensors of '" + name + "' (capteur --token-file) and keep no other copy");
                }
                out.flush();
            });
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists the credentials: name, kind, pattern (never a token, which the file does not hold).")
    static final class ListCredentials implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "the credentials file")
        Path file;

        @Override
        public Integer call() {
            return run(spec, () -> {
                PrintWriter out = spec.commandLine().getOut();
                out.printf("%-24s %-12s %s%n", "NAME", "KIND", "PATTERN");
                for (Credential c : new CredentialsFile(file).read().all()) {
                    out.printf("%-24s %-12s %s%n", c.name(), c.kind() == Credential.Kind.TOKEN ? "token"
                            : "certificate " + c.subject(), c.pattern());
                }
                out.flush();
            });
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Removes a credential: new connections with it are refused at once, open ones are closed"
                    + " when the server next reads the file (within a second or two).")
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME", description = "the credential's name")
        String name;

        @Parameters(index = "1", paramLabel = "FILE", description = "the credentials file")
        Path file;

        @Override
        public Integer call() {
            return run(spec, () -> {
                Credential gone = new CredentialsFile(file).revoke(name);
                spec.commandLine().getOut().println("revoked " + gone.name() + " (" + gone.pattern() + ")");
                spec.commandLine().getOut().flush();
            });
        }
    }

    private interface Action {
        void run() throws CredentialsException;
    }

    /** One line on standard error and exit code 2 for a bad request or an unusable file, as the server does. */
    private static int run(CommandLine.Model.CommandSpec spec, Action action) {
        try {
            action.run();
            return 0;
        } catch (CredentialsException | IllegalArgumentException e) {
            spec.commandLine().getErr().println("serveur credentials: " + e.getMessage());
            return Main.BAD_USAGE;
        }
    }
}
