package fr.mesures.systemtests.fuzz;

import fr.mesures.protocole.Reply;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * One connection's byte stream for the fuzz test, built from segments so that the test knows what the server
 * must do with it: valid readings (in many shapes), valid and mixed batches, invalid readings, malformed and
 * truncated values, mutated readings, garbage lines, raw random bytes, oversized values, unterminated strings.
 *
 * <p>Every reading has a key of its own. A valid reading whose value starts between values (per
 * {@link FramingModel}) and ends there is <em>intact</em>: the server must store it ({@link #must}). A valid
 * reading anywhere else (after an unclosed bracket, inside a truncated value) is {@link #maybe}. Mutated
 * readings may turn into other valid readings under their own identifier ({@link #maybeIds}) or, when the
 * mutation reshapes the identifier itself (a quote and a letter replaced by a newline and a quote still make a
 * string), under their own timestamp ({@link #maybeTimestamps}). Nothing else may ever be stored.
 */
public final class FuzzStream {

    /** A reading's identity in the database. */
    public record Key(String capteurId, long timestamp) {
    }

    private static final byte[] NASTY = {0, 1, (byte) 0xFF, (byte) 0x80, (byte) 0xC3, '\n', '"', '{', '[', '}', ']',
            ',', '\\'};
    private static final String[] SEPARATORS = {"", "\n", "\n", "\n", " ", "\r\n", "\t", "\n\n"};

    public final long number;
    public final Map<Key, Double> must = new HashMap<>();
    public final Set<Key> maybe = new HashSet<>();
    public final Set<String> maybeIds = new HashSet<>();
    /** Timestamps of mutated readings: no other value carries them, so a valid row with one came from there. */
    public final Set<Long> maybeTimestamps = new HashSet<>();
    /** Value numbers (from 1) of intact readings and batches: no error line may name them. */
    public final Set<Long> intactValues = new HashSet<>();
    public final List<String> segments = new ArrayList<>();

    private final Random random;
    private final int maxValueBytes;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final FramingModel model = new FramingModel();
    private final long firstTimestamp;
    private int next;
    private byte[] lastValid;

    public FuzzStream(long seed, long number, int maxValueBytes) {
        this.number = number;
        this.random = new Random(seed * 1_000_003L + number);
        this.maxValueBytes = maxValueBytes;
        this.firstTimestamp = 1_500_000_000_000L + number * 1_000_000L;
        append("acks", Reply.ACKS_REQUEST.getBytes(StandardCharsets.US_ASCII));
        int count = 5 + random.nextInt(60);
        for (int i = 0; i < count; i++) {
            segment();
            append("sep", SEPARATORS[random.nextInt(SEPARATORS.length)].getBytes(StandardCharsets.US_ASCII));
        }
    }

    public byte[] bytes() {
        return out.toByteArray();
    }

    /** Values in the stream, the acks request included: the final ack must be exactly this. */
    public long values() {
        return model.values();
    }

    private void segment() {
        int kind = random.nextInt(100);
        if (kind < 35) {
            validReading();
        } else if (kind < 42) {
            validBatch();
        } else if (kind < 47) {
            mixedBatch();
        } else if (kind < 57) {
            invalidReading();
        } else if (kind < 63) {
            append("malformed", choose("{\"capteur_id\":\"m\",\"temperature\":}", "{\"capteur_id\" \"m\"}", "[1,2,]",
                    "{\"capteur_id\":\"m\",\"temperature\":1,}", "{]", "[}", "{\"a\":tru}", "[{\"capteur_id\":\"m\"]}"));
        } else if (kind < 69) {
            truncated();
        } else if (kind < 75) {
            mutated();
        } else if (kind < 82) {
            garbageLine();
        } else if (kind < 86) {
            randomBytes();
        } else if (kind < 88) {
            oversized();
        } else if (kind < 91) {
            append("unterminated", "{\"capteur_id\":\"ouvert\n".getBytes(StandardCharsets.US_ASCII));
        } else if (kind < 92) {
            append("backslash-newline", "{\"capteur_id\":\"ab\\\n".getBytes(StandardCharsets.US_ASCII));
        } else if (kind < 94) {
            int depth = 1 + random.nextInt(120);
            append("nesting " + depth, ("[".repeat(depth) + "]".repeat(depth)).getBytes(StandardCharsets.US_ASCII));
        } else if (kind < 96) {
            append("acks toggle", (random.nextBoolean() ? "{\"acks\":false}" : "{\"acks\":true}")
                    .getBytes(StandardCharsets.US_ASCII));
        } else if (kind < 98 && lastValid != null) {
            valid("resend", lastValid, List.of());
        } else {
            // Its identifiers may yet end up in a reading without timestamp, if random bytes close it.
            maybeIds.add("x");
            maybeIds.add("y");
            append("unclosed", choose("{\"capteur_id\":\"x\",\"temperature\":1", "[", "{", "[{\"capteur_id\":\"y\""));
        }
    }

    // ------------------------------------------------------------------------------------------ readings

    private record Made(Key key, double temperature, String json) {
    }

    private Made reading(String idPrefix) {
        Key key = new Key(idPrefix + number + "_" + next, firstTimestamp + next);
        next++;
        String literal = pick(new String[] {"23", "-5.25", "2.5e1", "-273.15", "1000", "0", "19.99", "-0.5",
                "1E2", "123.456"});
        String ts = switch (random.nextInt(4)) {
            case 0 -> "\"" + Instant.ofEpochMilli(key.timestamp()) + "\"";
            case 1 -> "\"" + Instant.ofEpochMilli(key.timestamp()).atOffset(ZoneOffset.ofHours(2)) + "\"";
            default -> String.valueOf(key.timestamp());
        };
        String id = "\"capteur_id\":\"" + key.capteurId() + "\"";
        String temp = "\"temperature\":" + literal;
        String time = "\"timestamp\":" + ts;
        String json = switch (random.nextInt(5)) {
            case 0 -> "{" + id + "," + temp + "," + time + "}";
            case 1 -> "{ " + time + " , " + temp + " ,\t" + id + " }";
            case 2 -> "{\n  " + id + ",\n  " + temp + ",\n  " + time + "\n}";
            case 3 -> "{" + id + ",\"note\":\"a}]{[\\\"\\\\ \\u00e9 é\",\"meta\":{\"x\":[1,{\"y\":\"}\"}]}," + temp
                    + ",\"n\":null," + time + "}";
            default -> "{" + temp + "," + id + "," + time + ",\"extra\":[[],{},\"[\"]}";
        };
        return new Made(key, Double.parseDouble(literal), json);
    }

    private void validReading() {
        Made r = reading("f");
        valid("reading", r.json().getBytes(StandardCharsets.UTF_8), List.of(r));
    }

    private void validBatch() {
        List<Made> readings = new ArrayList<>();
        StringBuilder json = new StringBuilder("[");
        int n = 1 + random.nextInt(5);
        for (int i = 0; i < n; i++) {
            Made r = reading("f");
            readings.add(r);
            json.append(i == 0 ? "" : ",").append(r.json());
        }
        valid("batch", json.append("]").toString().getBytes(StandardCharsets.UTF_8), readings);
    }

    /** A valid array whose invalid elements are rejected alone: the valid ones are intact readings. */
    private void mixedBatch() {
        List<Made> readings = new ArrayList<>();
        StringBuilder json = new StringBuilder("[");
        int n = 2 + random.nextInt(4);
        for (int i = 0; i < n; i++) {
            json.append(i == 0 ? "" : ",");
            if (random.nextBoolean()) {
                Made r = reading("f");
                readings.add(r);
                json.append(r.json());
            } else {
                json.append(random.nextBoolean() ? invalidJson(false) : pick(new String[] {"42", "\"x\"", "null", "[]"}));
            }
        }
        boolean intact = appendValue("mixed batch", json.append("]").toString().getBytes(StandardCharsets.UTF_8));
        for (Made r : readings) {
            record(r, intact);
        }
    }

    private void valid(String what, byte[] bytes, List<Made> readings) {
        boolean intact = appendValue(what, bytes);
        if (intact && !readings.isEmpty()) {
            intactValues.add(model.values());
        }
        for (Made r : readings) {
            record(r, intact);
        }
        if (!readings.isEmpty()) {
            lastValid = bytes;
        }
    }

    private void record(Made r, boolean intact) {
        if (intact) {
            must.put(r.key(), r.temperature());
            maybe.remove(r.key());
        } else if (!must.containsKey(r.key())) {
            maybe.add(r.key());
        }
    }

    /**
     * A reading that breaks exactly one rule; its key is never expected in the database.
     *
     * @param malformed whether the rules that make the whole top-level value malformed JSON (a field twice, a
     *                  number past the parser's length limit) may be picked: not inside a batch whose other
     *                  elements must be stored
     */
    private String invalidJson(boolean malformed) {
        String id = "x" + number + "_" + next;
        long ts = firstTimestamp + next;
        next++;
        String[] options = {
            "{\"capteur_id\":\"" + id + "\",\"temperature\":-273.16,\"timestamp\":" + ts + "}",
            "{\"capteur_id\":\"" + id + "\",\"temperature\":1000.5,\"timestamp\":" + ts + "}",
            "{\"capteur_id\":\"" + id + "\",\"temperature\":1e400,\"timestamp\":" + ts + "}",
            "{\"capteur_id\":\"" + id + "\",\"temperature\":\"23.5\",\"timestamp\":" + ts + "}",
            "{\"capteur_id\":\"" + id + "\",\"temperature\":null,\"timestamp\":" + ts + "}",
            "{\"capteur_id\":\"" + id + "\",\"timestamp\":" + ts + "}",
            "{\"temperature\":1,\"timestamp\":" + ts + "}",
            "{\"capteur_id\":\"\",\"temperature\":1,\"timestamp\":" + ts + "}",
            "{\"capteur_id\":\"" + "y".repeat(65) + "\",\"temperature\":1,\"timestamp\":" + ts + "}",
            "{\"capteur_id\":\"" + id + " bad\",\"temperature\":1,\"timestamp\":" + ts + "}",
            "{\"capteur_id\":\"" + id + "é\",\"temperature\":1,\"timestamp\":" + ts + "}",
            "{\"capteur_id\":\"" + id + "\",\"temperature\":1,\"timestamp\":-1}",
            "{\"capteur_id\":\"" + id + "\",\"temperature\":1,\"timestamp\":253402300800000}",
            "{\"capteur_id\":\"" + id + "\",\"temperature\":1,\"timestamp\":\"yesterday\"}",
            "{\"capteur_id\":\"" + id + "\",\"temperature\":1,\"timestamp\":1.5}",
            "{\"capteur_id\":\"" + id + "\",\"temperature\":1,\"timestamp\":\"2023-11-14T22:13:20\"}",
            "{\"acks\":true,\"capteur_id\":\"" + id + "\"}",
            // These two last: they make the whole value malformed, batch or not.
            "{\"capteur_id\":\"" + id + "\",\"temperature\":1,\"temperature\":2,\"timestamp\":" + ts + "}",
            "{\"capteur_id\":\"" + id + "\",\"temperature\":1" + "0".repeat(1200) + ",\"timestamp\":" + ts + "}",
        };
        return options[random.nextInt(options.length - (malformed ? 0 : 2))];
    }

    private void invalidReading() {
        append("invalid", invalidJson(true).getBytes(StandardCharsets.UTF_8));
    }

    private void truncated() {
        Made r = reading("f");
        byte[] bytes = r.json().getBytes(StandardCharsets.UTF_8);
        int cut = 1 + random.nextInt(bytes.length - 1);
        byte[] prefix = java.util.Arrays.copyOf(bytes, cut);
        maybe.add(r.key());
        // Random bytes after it could close it into a reading without timestamp, under this identifier.
        maybeIds.add(r.key().capteurId());
        append("truncated at " + cut, prefix);
    }

    private void mutated() {
        Made r = reading("mut");
        byte[] bytes = r.json().getBytes(StandardCharsets.UTF_8);
        int changes = 1 + random.nextInt(3);
        for (int i = 0; i < changes; i++) {
            bytes[random.nextInt(bytes.length)] = NASTY[random.nextInt(NASTY.length)];
        }
        maybe.add(r.key());
        maybeIds.add(r.key().capteurId());
        maybeTimestamps.add(r.key().timestamp());
        append("mutated", bytes);
    }

    private void garbageLine() {
        byte[] line = new byte[1 + random.nextInt(300)];
        random.nextBytes(line);
        for (int i = 0; i < line.length; i++) {
            if (line[i] == '\n') {
                line[i] = 0;
            }
        }
        byte first = pick(new byte[] {'x', '4', ',', ':', '"', '}', ']', 0, (byte) 0xFF, (byte) 0xEF, '-', 'n'});
        line[0] = first;
        append("garbage line", line);
        append("garbage end", new byte[] {'\n'});
    }

    private void randomBytes() {
        byte[] bytes = new byte[1 + random.nextInt(200)];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = random.nextInt(3) == 0 ? NASTY[random.nextInt(NASTY.length)] : (byte) random.nextInt(256);
        }
        append("random bytes", bytes);
    }

    private void oversized() {
        String pad = "z".repeat(maxValueBytes + random.nextInt(3 * maxValueBytes));
        append("oversized", ("{\"capteur_id\":\"big\",\"temperature\":1,\"note\":\"" + pad + "\"}")
                .getBytes(StandardCharsets.US_ASCII));
    }

    // ------------------------------------------------------------------------------------------ plumbing

    /**
     * Appends a value and says whether it is intact: it starts between values, ends there as exactly one value
     * (so it is then value number {@code model.values()}), and is not over the size limit.
     */
    private boolean appendValue(String what, byte[] bytes) {
        boolean standalone = model.between();
        long index = model.values() + 1;
        append(what, bytes);
        return standalone && model.between() && model.values() == index && bytes.length <= maxValueBytes;
    }

    private void append(String what, byte[] bytes) {
        out.writeBytes(bytes);
        model.feed(bytes);
        if (bytes.length > 0) {
            segments.add(what);
        }
    }

    private byte[] choose(String... options) {
        return options[random.nextInt(options.length)].getBytes(StandardCharsets.UTF_8);
    }

    private String pick(String[] options) {
        return options[random.nextInt(options.length)];
    }

    private byte pick(byte[] options) {
        return options[random.nextInt(options.length)];
    }
}
