package fr.mesures.capteur.source;

import fr.mesures.protocole.ReadingRules;

/**
 * What the sources check in a temperature before it is sent, whether typed, replayed from CSV or from NDJSON:
 * only what the protocol fixes whatever the server's settings (a finite number, not below absolute zero). The
 * highest temperature is the server's to decide: a reading above it is sent, rejected by the server and reported
 * with the server's reason, rather than dropped here by a limit the server may not have.
 */
final class Temperatures {

    /** The protocol's rules with no maximum of their own (the largest a {@link ReadingRules} accepts). */
    static final ReadingRules RULES = ReadingRules.ANY;

    private static final int SHOWN_CHARACTERS = 40;

    private Temperatures() {
    }

    /**
     * Reads a temperature in degrees Celsius as people write it ({@code 23.5}, or {@code 23,5} when
     * {@code decimalComma}) and checks it against {@link #RULES}.
     *
     * @throws IllegalArgumentException with a message for a person
     */
    static double parse(String text, boolean decimalComma) {
        String number = text.strip();
        double celsius;
        try {
            celsius = Double.parseDouble(decimalComma ? number.replace(',', '.') : number);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + abbreviate(number) + "' is not a temperature (for example 23.5)");
        }
        String problem = RULES.temperatureProblem(celsius);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return celsius;
    }

    private static String abbreviate(String text) {
        return text.length() <= SHOWN_CHARACTERS ? text : text.substring(0, SHOWN_CHARACTERS) + "…";
    }
}
