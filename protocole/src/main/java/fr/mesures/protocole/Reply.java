package fr.mesures.protocole;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.IOException;

/**
 * A line the server sends back: one JSON object followed by {@code \n}.
 *
 * <ul>
 *   <li>{@link Ack} {@code {"ack": N}}: values 1..N of the connection are handled (stored durably, or rejected
 *       with an error line sent before).</li>
 *   <li>{@link Error} {@code {"error": "...", "index": K, "reason": "missing_field"}} (plus {@code "element": E}
 *       inside a batch): value K was rejected, for the reason a program can test; without an index the error is
 *       about the connection; with {@code "dropped": D}, D error lines were left out.</li>
 *   <li>{@link AuthOk} {@code {"auth": "ok"}}: the connection's {@code {"auth": TOKEN}} value was accepted.</li>
 * </ul>
 */
public sealed interface Reply {

    /** The longest line the server sends, newline included: messages are bounded so that every line fits. */
    int MAX_LINE_BYTES = 1024;

    /** The reply as the line sent on the wire, newline included. */
    String toJson();

    /** Values 1..{@code count} of this connection are handled. */
    record Ack(long count) implements Reply {
        @Override
        public String toJson() {
            return "{\"ack\":" + count + "}\n";
        }
    }

    /** The token of the connection's first value was accepted; sent at once, whether or not replies were asked for. */
    record AuthOk() implements Reply {
        public static final String LINE = "{\"auth\":\"ok\"}\n";

        @Override
        public String toJson() {
            return LINE;
        }
    }

    /**
     * A rejection or a notice. {@code index}, {@code element} and {@code dropped} are 0 when absent; {@code reason}
     * is a {@link RejectReason} or {@link ConnectionReason} label (null only from a server that sent none). The
     * message is for a person and is {@link SafeText#bounded bounded}, so a line never exceeds
     * {@link #MAX_LINE_BYTES}.
     */
    record Error(String message, long index, int element, long dropped, String reason) implements Reply {

        public Error {
            message = SafeText.bounded(message);
        }

        public static Error ofValue(long index, int element, RejectReason reason, String message) {
            return new Error(message, index, element, 0, reason.label());
        }

        public static Error ofConnection(ConnectionReason reason, String message) {
            return new Error(message, 0, 0, 0, reason.label());
        }

        /** {@code count} error lines were left out. */
        public static Error dropped(long count, String message) {
            return new Error(message, 0, 0, count, ConnectionReason.REPLIES_DROPPED.label());
        }

        @Override
        public String toJson() {
            var json = new StringBuilder(message.length() + 64).append("{\"error\":\"");
            json.append(JsonStringEncoder.getInstance().quoteAsString(message)).append('"');
            if (index > 0) {
                json.append(",\"index\":").append(index);
            }
            if (element > 0) {
                json.append(",\"element\":").append(element);
            }
            if (dropped > 0) {
                json.append(",\"dropped\":").append(dropped);
            }
            if (reason != null) {
                json.append(",\"reason\":\"").append(JsonStringEncoder.getInstance().quoteAsString(reason))
                        .append('"');
            }
            return json.append("}\n").toString();
        }
    }

    /**
     * Reads one reply line (with or without its newline).
     *
     * @throws IllegalArgumentException when the line is not a reply
     */
    static Reply parse(String line) {
        try (JsonParser parser = ReplyJson.FACTORY.createParser(line)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("not a reply: " + line);
            }
            long ack = -1;
            String error = null;
            long index = 0;
            int element = 0;
            long dropped = 0;
            String reason = null;
            String auth = null;
            String field;
            while ((field = parser.nextFieldName()) != null) {
                parser.nextToken();
                switch (field) {
                    case "ack" -> ack = parser.getValueAsLong(-1);
                    case "error" -> error = parser.getValueAsString();
                    case "index" -> index = parser.getValueAsLong(0);
                    case "element" -> element = parser.getValueAsInt(0);
                    case "dropped" -> dropped = parser.getValueAsLong(0);
                    case "reason" -> reason = parser.getValueAsString();
                    case "auth" -> auth = parser.getValueAsString();
                    default -> parser.skipChildren();
                }
            }
            if (error != null) {
                return new Error(error, index, element, dropped, reason);
            }
            if (ack >= 0) {
                return new Ack(ack);
            }
            if ("ok".equals(auth)) {
                return new AuthOk();
            }
            throw new IllegalArgumentException("not a reply: " + line);
        } catch (IOException e) {
            throw new IllegalArgumentException("not a reply: " + line, e);
        }
    }

    /** The request a client sends (as any value) to get replies while it is still sending. */
    String ACKS_REQUEST = "{\"acks\":true}\n";

    /**
     * The first value of a client that proves who it is with a token, asking for replies as well when {@code acks}
     * (the server answers {@link AuthOk} or an error line, then closes).
     */
    static String authRequest(String token, boolean acks) {
        return "{\"auth\":\"" + new String(JsonStringEncoder.getInstance().quoteAsString(token)) + "\""
                + (acks ? ",\"acks\":true" : "") + "}\n";
    }
}
