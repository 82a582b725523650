package fr.mesures.demo;

/**
 * Entry point of {@code demo.jar}: {@code java -jar demo/target/demo.jar}.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(DemoCommand.commandLine().execute(args));
    }
}
