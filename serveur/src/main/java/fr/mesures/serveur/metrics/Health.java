package fr.mesures.serveur.metrics;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import fr.mesures.protocole.Timestamps;

/**
 * The answer of {@code GET /health}: healthy when the server listens, its store is writable and none of its
 * threads died.
 *
 * @param listening      the TCP port accepts connections
 * @param store          which store, for a person
 * @param storeWritable  the last write to the store succeeded
 * @param storeProblem   why it did not, or null
 * @param sinceMillis    when the store entered its current state
 * @param connections    connections open now
 * @param queued         values received and not yet handled
 * @param failure        which thread died and of what, or null
 */
public record Health(boolean listening, String store, boolean storeWritable, String storeProblem,
        long sinceMillis, int connections, long queued, String failure) {

    public boolean healthy() {
        return listening && storeWritable && failure == null;
    }

    public String toJson() {
        var json = new StringBuilder(200)
                .append("{\"status\":\"").append(healthy() ? "up" : "down").append('"');
        if (failure != null) {
            json.append(",\"failure\":\"").append(quote(failure)).append('"');
        }
        json.append(",\"listening\":").append(listening)
                .append(",\"store\":{\"location\":\"").append(quote(store))
                .append("\",\"writable\":").append(storeWritable);
        if (storeProblem != null) {
            json.append(",\"problem\":\"").append(quote(storeProblem)).append('"');
        }
        return json.append(",\"since\":\"").append(Timestamps.formatIso(sinceMillis))
                .append("\"},\"connections\":").append(connections)
                .append(",\"queued\":").append(queued)
                .append("}\n").toString();
    }

    private static String quote(String text) {
        return new String(JsonStringEncoder.getInstance().quoteAsString(text));
    }
}
