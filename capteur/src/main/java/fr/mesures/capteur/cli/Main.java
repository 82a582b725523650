package fr.mesures.capteur.cli;

/**
 * Entry point of {@code capteur.jar}: runs {@link CapteurCommand} and exits with its code.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(CapteurCommand.commandLine(new CapteurCommand()).execute(args));
    }
}
