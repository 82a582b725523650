package fr.mesures.protocole;

/**
 * One temperature reading: which sensor, how warm, and when it was measured.
 *
 * <p>{@code timestamp} is the time of measurement in milliseconds since the Unix epoch (UTC). Together with
 * {@code capteurId} it identifies the reading: the server stores a reading sent twice once. A reading built with
 * {@link #NO_TIMESTAMP} lets the server use its receive time instead, and then cannot be recognised when resent.
 */
public record Reading(String capteurId, double temperature, long timestamp) {

    /** Marks a reading whose time of measurement is left to the server. */
    public static final long NO_TIMESTAMP = Long.MIN_VALUE;

    /** The shortest reading in JSON, {@code {"capteur_id":"a","temperature":0}}: it bounds what a value can hold. */
    public static final int MIN_JSON_BYTES = 34;

    /**
     * The most readings a value of {@code length} bytes can hold: one for an object; for an array, each reading
     * takes at least {@link #MIN_JSON_BYTES} plus a separator, and the brackets two more.
     *
     * @param first the value's first byte, {@code '{'} or {@code '['}
     */
    public static int maxReadingsIn(byte first, int length) {
        return first == '[' ? Math.max(0, (length - 1) / (MIN_JSON_BYTES + 1)) : 1;
    }

    public Reading {
        if (!CapteurIds.isValid(capteurId)) {
            throw new IllegalArgumentException(CapteurIds.problem(capteurId));
        }
        if (!Double.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number");
        }
        if (timestamp != NO_TIMESTAMP && !Timestamps.inRange(timestamp)) {
            throw new IllegalArgumentException(Timestamps.rangeProblem(timestamp));
        }
    }

    public boolean hasTimestamp() {
        return timestamp != NO_TIMESTAMP;
    }

    /** This reading as one line of NDJSON, the form a sensor sends. */
    public String toJson() {
        var json = new StringBuilder(80)
                .append("{\"capteur_id\":\"").append(capteurId)
                .append("\",\"temperature\":").append(temperature);
        if (hasTimestamp()) {
            json.append(",\"timestamp\":").append(timestamp);
        }
        return json.append("}\n").toString();
    }
}
