package fr.mesures.serveur.ingest;

import fr.mesures.serveur.storage.ReadingBlock;

/**
 * A test seam, off unless asked for: the thread of one stage ({@code selector}, {@code worker} or {@code writer})
 * throws an {@link OutOfMemoryError} when it handles a batch holding a reading of one sensor. It lets the fault
 * tests kill each pipeline thread the way a real error would, in process or in the real jar
 * ({@code -Dserveur.inject.error=STAGE:CAPTEUR_ID}); only whoever starts the JVM can turn it on.
 */
public final class InjectedFault {

    /** No fault: what production runs. */
    public static final InjectedFault NONE = new InjectedFault(null, null);

    private final String stage;
    private final String capteurId;

    private InjectedFault(String stage, String capteurId) {
        this.stage = stage;
        this.capteurId = capteurId;
    }

    /** The fault {@code -Dserveur.inject.error} asks for, or {@link #NONE}. */
    public static InjectedFault fromSystemProperty() {
        return parse(System.getProperty("serveur.inject.error"));
    }

    /** {@code STAGE:CAPTEUR_ID}, or {@link #NONE} for null or blank. */
    public static InjectedFault parse(String spec) {
        if (spec == null || spec.isBlank()) {
            return NONE;
        }
        String[] parts = spec.split(":", 2);
        if (parts.length != 2 || !parts[0].matches("selector|worker|writer")) {
            throw new IllegalArgumentException("-Dserveur.inject.error must be selector|worker|writer:CAPTEUR_ID, got "
                    + spec);
        }
        return new InjectedFault(parts[0], parts[1]);
    }

    /** Throws the injected error if it is aimed at {@code stage} and {@code readings} hold its sensor. */
    public void at(String stage, ReadingBlock readings) {
        if (capteurId == null || !this.stage.equals(stage)) {
            return;
        }
        for (int i = 0; i < readings.size(); i++) {
            if (readings.capteurId(i).equals(capteurId)) {
                throw new OutOfMemoryError("injected in the " + stage + " by -Dserveur.inject.error");
            }
        }
    }
}
