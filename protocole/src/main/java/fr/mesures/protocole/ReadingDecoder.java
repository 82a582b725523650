package fr.mesures.protocole;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * Decodes and validates one complete JSON value: a reading object, an array of readings (a batch), or the
 * request for replies {@code {"acks": true}}, or a client's token {@code {"auth": "..."}} (the two may share one object).
 *
 * <p>A value that is not valid JSON is rejected whole. In a valid batch each element stands alone: valid
 * elements are readings, invalid ones are rejected with their 1-based element number. Nothing of a value reaches
 * the {@link Sink} before the whole value has been parsed, so a syntax error at the end of a batch cannot leave
 * half of it stored.
 *
 * <p>Memory is bounded by the value, whatever it holds: of the rejected elements of one value, the first
 * {@link #MAX_REPORTED_PER_VALUE} are reported with a message and the others only counted, so that a 64 KiB batch
 * of {@code {}} makes 16 messages, not 20,000.
 *
 * <p>Not thread-safe: each thread owns its decoder (it keeps scratch space and a cache of identifiers).
 */
public final class ReadingDecoder {

    /** Receives what one value holds. Element 0 means the value itself; batch elements count from 1. */
    public interface Sink {
        /** {@code timestamp} is {@link Reading#NO_TIMESTAMP} when the reading did not carry one. */
        void reading(String capteurId, double temperature, long timestamp);

        /** The same, for a sink that needs to know which element of the value it was (0 for a lone reading). */
        default void reading(int element, String capteurId, double temperature, long timestamp) {
            reading(capteurId, temperature, timestamp);
        }

        void rejected(int element, RejectReason reason, String message);

        /** The value was {@code {"acks": true}} (or {@code false}): the client asks for replies as they happen. */
        default void acksRequested(boolean acks) {
        }

        /**
         * The value was {@code {"auth": TOKEN}} (reported before {@link #acksRequested} when the object has both). A
         * token that is not a string, or longer than {@link #MAX_TOKEN_CHARS}, is reported as the empty string, which
         * no credential matches.
         */
        default void authRequested(String token) {
        }

        /**
         * {@code count} more elements of the value were rejected for {@code reason}, past the
         * {@link #MAX_REPORTED_PER_VALUE} reported one by one. Only a sink that counts rejections needs it.
         */
        default void unreported(RejectReason reason, int count) {
        }
    }

    /**
     * The longest token taken from {@code {"auth": ...}}: a longer one is reported as the empty string (no credential),
     * so that what a decoded auth request holds is bounded whatever the value's size. This project's tokens have 43.
     */
    public static final int MAX_TOKEN_CHARS = 256;

    /** Rejected elements of one value reported with a message; the rest are counted. */
    public static final int MAX_REPORTED_PER_VALUE = 16;
    private static final RejectReason[] REASONS = RejectReason.values();

    private final JsonFactory json;
    private final ReadingRules rules;
    private final LongSupplier clock;
    private final CapteurIdCache ids = new CapteurIdCache();
    // The clock, read once per call: what "now" means for the skew of the timestamps decoded in it.
    private long nowMillis;

    // One value's outcome, held until the whole value has parsed.
    private String[] capteurIds = new String[16];
    private double[] temperatures = new double[16];
    private long[] timestamps = new long[16];
    private int[] elements = new int[16];
    private int count;
    private final List<Rejection> rejections = new ArrayList<>();
    private final int[] unreported = new int[REASONS.length];
    private boolean anyUnreported;

    // The fields of the object being read.
    private String capteurId;
    private double temperature;
    private boolean hasTemperature;
    private long timestamp;
    private Boolean acks;
    private String auth;
    private int seen;
    private RejectReason problem;
    private String problemMessage;

    /** A decoder that judges timestamps against the system clock. */
    public ReadingDecoder(ReadingRules rules) {
        this(rules, System::currentTimeMillis);
    }

    /** @param clock epoch milliseconds, read once per {@link #decode} or {@link #sequence} */
    public ReadingDecoder(ReadingRules rules, LongSupplier clock) {
        this.rules = rules;
        this.clock = clock;
        this.json = JsonFactory.builder()
                .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
                .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
                .build();
    }

    /** Decodes the value in {@code data[offset, offset + length)} and reports it to {@code sink}. */
    public void decode(byte[] data, int offset, int length, Sink sink) {
        nowMillis = clock.getAsLong();
        decodeAt(data, offset, length, sink);
    }

    private void decodeAt(byte[] data, int offset, int length, Sink sink) {
        if (rejectedAsIllFormed(data, offset, length, sink)) {
            return;
        }
        try (JsonParser parser = json.createParser(data, offset, length)) {
            boolean acksValue = readValue(parser);
            if (parser.nextToken() != null) {
                throw new JsonParseException(parser, "more than one JSON value where one was expected");
            }
            emit(acksValue, sink);
        } catch (JsonProcessingException e) {
            sink.rejected(0, RejectReason.MALFORMED_JSON, malformed(e));
        } catch (IOException e) {
            throw new UncheckedIOException("reading from a byte array cannot fail", e);
        }
    }

    /**
     * Decodes values laid end to end in {@code data} from {@code offset} on, with one parser for all of them
     * instead of one per value: setting up a parser costs more than parsing a short reading. Use it for one
     * sequence at a time, then {@link Sequence#close()}.
     */
    public Sequence sequence(byte[] data, int offset, int end) {
        nowMillis = clock.getAsLong();
        return new Sequence(data, offset, end);
    }

    /** A cursor over values laid end to end; see {@link #sequence}. */
    public final class Sequence implements AutoCloseable {
        private final byte[] data;
        private final int end;
        private int position;
        private int parserStart;
        private JsonParser parser;

        private Sequence(byte[] data, int offset, int end) {
            this.data = data;
            this.position = offset;
            this.end = end;
        }

        /** Decodes the next value, which takes the next {@code length} bytes. */
        public void next(int length, Sink sink) {
            int valueStart = position;
            position += length;
            if (rejectedAsIllFormed(data, valueStart, length, sink)) {
                // The shared parser has not read this value: the next one starts a parser of its own.
                closeParser();
                return;
            }
            boolean acksValue;
            try {
                if (parser == null) {
                    parser = json.createParser(data, valueStart, end - valueStart);
                    parserStart = valueStart;
                }
                acksValue = readValue(parser);
            } catch (JsonProcessingException e) {
                // The parser is lost somewhere in this value: the next one gets a parser of its own. Its line and
                // column count from where it started, several values back, so the value is decoded again alone
                // for a message that points into the value itself (a rare path: only broken values take it).
                closeParser();
                decodeAt(data, valueStart, length, sink);
                return;
            } catch (IOException e) {
                throw new UncheckedIOException("reading from a byte array cannot fail", e);
            }
            if (parser.currentLocation().getByteOffset() != position - parserStart) {
                closeParser();
                sink.rejected(0, RejectReason.MALFORMED_JSON,
                        "malformed JSON: the value does not end where its brackets close");
                return;
            }
            emit(acksValue, sink);
        }

        @Override
        public void close() {
            closeParser();
        }

        private void closeParser() {
            if (parser != null) {
                try {
                    parser.close();
                } catch (IOException e) {
                    throw new UncheckedIOException("closing a byte array parser cannot fail", e);
                }
                parser = null;
            }
        }
    }

    private static boolean rejectedAsIllFormed(byte[] data, int offset, int length, Sink sink) {
        int bad = Utf8.firstInvalid(data, offset, offset + length);
        if (bad < 0) {
            return false;
        }
        sink.rejected(0, RejectReason.MALFORMED_JSON, String.format(
                "malformed JSON: invalid UTF-8 at byte %d of the value (0x%02X: overlong, a surrogate or past"
                        + " U+10FFFF)", bad - offset + 1, data[bad] & 0xFF));
        return true;
    }

    /** Reads one whole value into the scratch space; true when it was a request (acks, auth) rather than readings. */
    private boolean readValue(JsonParser parser) throws IOException {
        count = 0;
        rejections.clear();
        if (anyUnreported) {
            java.util.Arrays.fill(unreported, 0);
            anyUnreported = false;
        }
        JsonToken token = parser.nextToken();
        if (token == JsonToken.START_OBJECT) {
            readObject(parser);
            if (capteurId == null && !hasTemperature && (acks != null || auth != null) && problem == null) {
                return true;
            }
            finishReading(0);
        } else if (token == JsonToken.START_ARRAY) {
            int element = 0;
            while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
                element++;
                if (token == JsonToken.START_OBJECT) {
                    readObject(parser);
                    finishReading(element);
                } else {
                    parser.skipChildren();
                    if (rejections.size() < MAX_REPORTED_PER_VALUE) {
                        reject(element, RejectReason.NOT_A_READING, "element " + element
                                + " must be a JSON object (a reading), got " + describe(token));
                    } else {
                        unreported[RejectReason.NOT_A_READING.ordinal()]++;
                        anyUnreported = true;
                    }
                }
            }
        } else if (token == null) {
            reject(0, RejectReason.MALFORMED_JSON, "malformed JSON: empty value");
        } else {
            parser.skipChildren();
            reject(0, RejectReason.NOT_A_READING,
                    "a value must be a JSON object (a reading) or an array of readings, got " + describe(token));
        }
        return false;
    }

    /** Hands the value that was read to the sink: nothing of it before the whole value has parsed. */
    private void emit(boolean acksValue, Sink sink) {
        for (Rejection r : rejections) {
            sink.rejected(r.element, r.reason, r.message);
        }
        if (anyUnreported) {
            for (int i = 0; i < unreported.length; i++) {
                if (unreported[i] > 0) {
                    sink.unreported(REASONS[i], unreported[i]);
                }
            }
        }
        for (int i = 0; i < count; i++) {
            sink.reading(elements[i], capteurIds[i], temperatures[i], timestamps[i]);
        }
        if (acksValue) {
            if (auth != null) {
                sink.authRequested(auth);
            }
            if (acks != null) {
                sink.acksRequested(acks);
            }
        }
    }

    /** Reads one object's fields; the parser is on START_OBJECT and ends on its END_OBJECT. */
    private void readObject(JsonParser parser) throws IOException {
        capteurId = null;
        hasTemperature = false;
        timestamp = Reading.NO_TIMESTAMP;
        acks = null;
        auth = null;
        seen = 0;
        problem = null;
        problemMessage = null;
        String field;
        while ((field = parser.nextFieldName()) != null) {
            JsonToken value = parser.nextToken();
            switch (field) {
                case "capteur_id" -> {
                    once(field, SEEN_ID);
                    readCapteurId(parser, value);
                }
                case "temperature" -> {
                    once(field, SEEN_TEMPERATURE);
                    readTemperature(parser, value);
                }
                case "timestamp" -> {
                    once(field, SEEN_TIMESTAMP);
                    readTimestamp(parser, value);
                }
                case "acks" -> {
                    once(field, SEEN_ACKS);
                    if (value == JsonToken.VALUE_TRUE || value == JsonToken.VALUE_FALSE) {
                        acks = value == JsonToken.VALUE_TRUE;
                    }
                }
                case "auth" -> {
                    once(field, SEEN_AUTH);
                    auth = value == JsonToken.VALUE_STRING && parser.getTextLength() <= MAX_TOKEN_CHARS
                            ? parser.getText() : "";
                    parser.skipChildren();
                }
                default -> parser.skipChildren();
            }
        }
    }

    private static final int SEEN_ID = 1;
    private static final int SEEN_TEMPERATURE = 2;
    private static final int SEEN_TIMESTAMP = 4;
    private static final int SEEN_ACKS = 8;
    private static final int SEEN_AUTH = 16;

    /**
     * A field of the protocol given twice is ambiguous: the reading is rejected (not the whole batch, as a JSON
     * error would). Checked here for the five fields that mean something, which costs a bit per object; Jackson's
     * own duplicate detection hashed every field name and took 15 % of a worker's time (JFR, by hand).
     */
    private void once(String field, int bit) {
        if ((seen & bit) != 0) {
            problem(RejectReason.MALFORMED_JSON, "malformed JSON: the field " + field + " is given twice");
        }
        seen |= bit;
    }

    private void readCapteurId(JsonParser parser, JsonToken value) throws IOException {
        if (value != JsonToken.VALUE_STRING) {
            problem(RejectReason.WRONG_TYPE, "capteur_id must be a string, got " + describe(value));
            parser.skipChildren();
            return;
        }
        capteurId = ids.canonical(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength());
        if (capteurId == null) {
            problem(RejectReason.INVALID_ID, CapteurIds.problem(parser.getText()));
        }
    }

    private void readTemperature(JsonParser parser, JsonToken value) throws IOException {
        if (value != JsonToken.VALUE_NUMBER_INT && value != JsonToken.VALUE_NUMBER_FLOAT) {
            problem(RejectReason.WRONG_TYPE, "temperature must be a number, got " + describe(value));
            parser.skipChildren();
            return;
        }
        temperature = parser.getDoubleValue();
        hasTemperature = true;
    }

    private void readTimestamp(JsonParser parser, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_NUMBER_INT) {
            if (parser.getNumberType() != JsonParser.NumberType.INT
                    && parser.getNumberType() != JsonParser.NumberType.LONG) {
                problem(RejectReason.INVALID_TIMESTAMP, Timestamps.rangeProblem(parser.getText()));
                return;
            }
            long millis = parser.getLongValue();
            if (Timestamps.inRange(millis)) {
                timestamp = millis;
            } else {
                problem(RejectReason.INVALID_TIMESTAMP, Timestamps.rangeProblem(millis));
            }
        } else if (value == JsonToken.VALUE_STRING) {
            try {
                timestamp = Timestamps.parseIso(parser.getText());
            } catch (IllegalArgumentException e) {
                problem(RejectReason.INVALID_TIMESTAMP, e.getMessage());
            }
        } else {
            problem(RejectReason.INVALID_TIMESTAMP, "timestamp must be epoch milliseconds (an integer) or an"
                    + " ISO-8601 string, got " + describe(value));
            parser.skipChildren();
        }
    }

    /** The first problem in an object is the one reported. */
    private void problem(RejectReason reason, String message) {
        if (problem == null) {
            problem = reason;
            problemMessage = message;
        }
    }

    private void finishReading(int element) {
        if (problem == null) {
            if (capteurId == null) {
                problem(RejectReason.MISSING_FIELD, "capteur_id is missing");
            } else if (!hasTemperature) {
                problem(RejectReason.MISSING_FIELD, "temperature is missing");
            } else {
                String range = rules.temperatureProblem(temperature);
                if (range != null) {
                    problem(RejectReason.OUT_OF_RANGE, range);
                } else if (timestamp != Reading.NO_TIMESTAMP) {
                    String future = rules.timestampProblem(timestamp, nowMillis);
                    if (future != null) {
                        problem(RejectReason.FUTURE, future);
                    }
                }
            }
        }
        if (problem != null) {
            if (rejections.size() < MAX_REPORTED_PER_VALUE) {
                reject(element, problem, element == 0 ? problemMessage : "element " + element + ": " + problemMessage);
            } else {
                unreported[problem.ordinal()]++;
                anyUnreported = true;
            }
            return;
        }
        if (count == capteurIds.length) {
            int grown = count * 2;
            capteurIds = java.util.Arrays.copyOf(capteurIds, grown);
            temperatures = java.util.Arrays.copyOf(temperatures, grown);
            timestamps = java.util.Arrays.copyOf(timestamps, grown);
            elements = java.util.Arrays.copyOf(elements, grown);
        }
        elements[count] = element;
        capteurIds[count] = capteurId;
        temperatures[count] = temperature;
        timestamps[count] = timestamp;
        count++;
    }

    private void reject(int element, RejectReason reason, String message) {
        rejections.add(new Rejection(element, reason, SafeText.bounded(message)));
    }

    private static String malformed(JsonProcessingException e) {
        String message = "malformed JSON: " + forPeople(e.getOriginalMessage());
        JsonLocation at = e.getLocation();
        if (at != null && at.getLineNr() > 0) {
            message += " (line " + at.getLineNr() + ", column " + at.getColumnNr() + " of the value)";
        }
        return SafeText.bounded(message);
    }

    /** Jackson's messages without the parts meant for its own users (settings to change, source locations). */
    private static String forPeople(String jacksonMessage) {
        String message = jacksonMessage;
        for (Pattern meantForJacksonUsers : NOT_FOR_PEOPLE) {
            message = meantForJacksonUsers.matcher(message).replaceAll("");
        }
        return WHITESPACE.matcher(message).replaceAll(" ").strip();
    }

    // Compiled once: a client sending malformed values makes this run for each of them.
    private static final List<Pattern> NOT_FOR_PEOPLE = List.of(
            Pattern.compile(", from `[^`]*`"),
            Pattern.compile(" \\(start marker at \\[Source:[^\\]]*]\\)"),
            Pattern.compile("\\s*at \\[Source:[^\\]]*]"));
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private static String describe(JsonToken token) {
        if (token == null) {
            return "nothing";
        }
        return switch (token) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> token.asString();
        };
    }

    private record Rejection(int element, RejectReason reason, String message) {
    }
}
