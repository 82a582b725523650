package fr.mesures.protocole;

/**
 * Why a value, or one element of a batch, was rejected. The label is the {@code reason} of the error line and of
 * the metrics, so it never changes once released.
 */
public enum RejectReason {
    /** Not valid JSON (syntax, invalid UTF-8, control characters in a string, nesting too deep). */
    MALFORMED_JSON("malformed_json"),
    /** Valid JSON, but neither a reading object nor an array of them. */
    NOT_A_READING("not_a_reading"),
    /** {@code capteur_id} or {@code temperature} is absent. */
    MISSING_FIELD("missing_field"),
    /** A field has the wrong JSON type ({@code "temperature": "23.5"}). */
    WRONG_TYPE("wrong_type"),
    /** {@code capteur_id} breaks the identifier rule. */
    INVALID_ID("invalid_id"),
    /** The temperature is below absolute zero, above the maximum, or not finite. */
    OUT_OF_RANGE("out_of_range"),
    /** The timestamp is not epoch milliseconds or ISO-8601 with an offset, or is out of range. */
    INVALID_TIMESTAMP("invalid_timestamp"),
    /** The timestamp is further ahead of the server's clock than it allows ({@code --max-clock-skew}). */
    FUTURE("future"),
    /**
     * A reading with this {@code (capteur_id, timestamp)} is already stored with another temperature: the stored one
     * is kept. (The same temperature again is a harmless duplicate, acknowledged, not rejected.)
     */
    CONFLICT("conflict"),
    /**
     * The connection's identity (its token's credential, or its client certificate) may not write this
     * {@code capteur_id}: nothing of the reading is stored; the connection goes on.
     */
    FORBIDDEN("forbidden"),
    /** Bytes that cannot start a value, skipped up to the next newline. */
    GARBAGE("garbage"),
    /** A value longer than the maximum message size. */
    TOO_LARGE("too_large"),
    /** The connection ended in the middle of a value. */
    TRUNCATED("truncated"),
    /** The server failed to handle the value (a bug, never bad input): nothing of it was stored; send it again. */
    INTERNAL("internal_error");

    private final String label;

    RejectReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
