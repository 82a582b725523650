package fr.mesures.protocole;

/**
 * The settings that decide whether a reading is acceptable; the rest of the rules (identifier, absolute zero,
 * time range) are fixed by the protocol.
 *
 * @param maxTemperature the highest temperature accepted, in degrees Celsius
 */
public record ReadingRules(double maxTemperature) {

    public static final double ABSOLUTE_ZERO = -273.15;
    public static final double DEFAULT_MAX_TEMPERATURE = 1000.0;
    public static final ReadingRules DEFAULT = new ReadingRules(DEFAULT_MAX_TEMPERATURE);

    public ReadingRules {
        if (!(maxTemperature > ABSOLUTE_ZERO) || !Double.isFinite(maxTemperature)) {
            throw new IllegalArgumentException("the maximum temperature must be a finite number above "
                    + ABSOLUTE_ZERO + " °C");
        }
    }

    /** What is wrong with a temperature, or {@code null} when it is acceptable. */
    public String temperatureProblem(double celsius) {
        if (Double.isNaN(celsius)) {
            return "temperature is not a number";
        }
        if (Double.isInfinite(celsius)) {
            // JSON has no infinity: a number with an exponent too large for a double reads as one.
            return "temperature is too large to be a finite number";
        }
        if (celsius < ABSOLUTE_ZERO) {
            return "temperature " + celsius + " is below absolute zero (" + ABSOLUTE_ZERO + " °C)";
        }
        if (celsius > maxTemperature) {
            return "temperature " + celsius + " is above the maximum of " + maxTemperature + " °C";
        }
        return null;
    }
}
