package fr.mesures.serveur.auth;

import fr.mesures.protocole.CapteurIds;

/**
 * The {@code capteur_id}s an identity may write: one identifier ({@code capteur_1}), every identifier starting with
 * a prefix ({@code salle_*}), or all of them ({@code *}). Deliberately no more than that: a pattern an operator can
 * read at a glance is one they can audit.
 *
 * @param prefix what an identifier must start with (when {@code wildcard}) or be (otherwise)
 */
public record CapteurPattern(String prefix, boolean wildcard) {

    /** Every {@code capteur_id}. */
    public static final CapteurPattern ANY = new CapteurPattern("", true);

    /**
     * Reads a pattern as written in a credentials file or on the command line.
     *
     * @throws IllegalArgumentException when it is none of the three forms
     */
    public static CapteurPattern parse(String text) {
        boolean wildcard = text.endsWith("*");
        String prefix = wildcard ? text.substring(0, text.length() - 1) : text;
        if ((prefix.isEmpty() && !wildcard) || (!prefix.isEmpty() && !CapteurIds.isValid(prefix))) {
            throw new IllegalArgumentException("'" + text + "' is not a capteur_id pattern: give an identifier"
                    + " (capteur_1), a prefix followed by * (salle_*), or * alone");
        }
        return new CapteurPattern(prefix, wildcard);
    }

    /**
     * Exactly this identifier and nothing else: a certificate's subject, taken as it is (a subject that is no valid
     * {@code capteur_id} matches nothing the server would accept).
     */
    public static CapteurPattern exactly(String capteurId) {
        return new CapteurPattern(capteurId, false);
    }

    public boolean matches(String capteurId) {
        return wildcard ? capteurId.startsWith(prefix) : capteurId.equals(prefix);
    }

    @Override
    public String toString() {
        return wildcard ? prefix + "*" : prefix;
    }
}
