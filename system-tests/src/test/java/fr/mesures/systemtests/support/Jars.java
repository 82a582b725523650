package fr.mesures.systemtests.support;

import java.nio.file.Files;
import java.nio.file.Path;

/** The programs under test: the real shaded jars the reactor built, and the JDK tools that drive them. */
public final class Jars {

    private Jars() {
    }

    public static Path serveur() {
        return jar("serveur.jar", "../serveur/target/serveur.jar");
    }

    public static Path capteur() {
        return jar("capteur.jar", "../capteur/target/capteur.jar");
    }

    /** The JVM that runs the tests also runs the jars: the same Java the build used. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public static String jcmd() {
        return Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    }

    private static Path jar(String property, String fallback) {
        Path path = Path.of(System.getProperty(property, fallback)).toAbsolutePath().normalize();
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException(path + " is missing: build it first (mvn -B -q -Dcore install -DskipTests)");
        }
        return path;
    }
}
