package fr.mesures.serveur.ingest;

import fr.mesures.serveur.storage.ReadingBlock;

/**
 * A test seam, off unless the JVM is started with {@code -Dserveur.inject.error=STAGE:CAPTEUR_ID}: the thread of
 * that stage ({@code selector}, {@code worker} or {@code writer}) throws an {@link OutOfMemoryError} when it
 * handles a batch holding a reading of that sensor. It lets the fault tests kill each pipeline thread the way a
 * real error would, in the real jar; only whoever starts the JVM can turn it on.
 */
public final class InjectedFault {

    private static final String[] SPEC = parse(System.getProperty("serveur.inject.error"));

    private InjectedFault() {
    }

    /** Throws the injected error if it is aimed at {@code stage} and {@code readings} hold its sensor. */
    public static void at(String stage, ReadingBlock readings) {
        if (SPEC == null || !SPEC[0].equals(stage)) {
            return;
        }
        for (int i = 0; i < readings.size(); i++) {
            if (readings.capteurId(i).equals(SPEC[1])) {
                throw new OutOfMemoryError("injected in the " + stage + " by -Dserveur.inject.error");
            }
        }
    }

    private static String[] parse(String spec) {
        if (spec == null || spec.isBlank()) {
            return null;
        }
        String[] parts = spec.split(":", 2);
        if (parts.length != 2) {
            throw new IllegalArgumentException("-Dserveur.inject.error must be STAGE:CAPTEUR_ID, got " + spec);
        }
        return parts;
    }
}
