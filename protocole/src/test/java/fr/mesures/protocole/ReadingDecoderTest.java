package fr.mesures.protocole;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReadingDecoderTest {

    /** 2026-12-03T12:00:00Z: the server's clock for every decode of this class. */
    private static final long NOW = 1_796_299_200_000L;

    private final ReadingDecoder decoder = new ReadingDecoder(ReadingRules.DEFAULT, () -> NOW);

    record Rejected(int element, RejectReason reason, String message) {
    }

    static final class Collected implements ReadingDecoder.Sink {
        final List<Reading> readings = new ArrayList<>();
        final List<Rejected> rejected = new ArrayList<>();
        final List<Boolean> acks = new ArrayList<>();
        final List<String> auth = new ArrayList<>();
        final java.util.Map<RejectReason, Integer> unreported = new java.util.EnumMap<>(RejectReason.class);

        @Override
        public void reading(String capteurId, double temperature, long timestamp) {
            readings.add(new Reading(capteurId, temperature, timestamp));
        }

        @Override
        public void rejected(int element, RejectReason reason, String message) {
            rejected.add(new Rejected(element, reason, message));
        }

        @Override
        public void acksRequested(boolean on) {
            acks.add(on);
        }

        @Override
        public void authRequested(String token) {
            auth.add(token);
        }

        @Override
        public void unreported(RejectReason reason, int count) {
            unreported.merge(reason, count, Integer::sum);
        }
    }

    private Collected decode(String json) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        var sink = new Collected();
        decoder.decode(bytes, 0, bytes.length, sink);
        return sink;
    }

    @Test
    void decodesTheExercisesExampleAsPrinted() {
        var out = decode("{\n  \"capteur_id\": \"capteur_1\",\n  \"temperature\": 23.5\n}");
        assertThat(out.rejected).isEmpty();
        assertThat(out.readings).containsExactly(new Reading("capteur_1", 23.5, Reading.NO_TIMESTAMP));
    }

    @Test
    void readsEpochAndIsoTimestampsAsTheSameInstant() {
        var epoch = decode("{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":1764000000123}");
        var iso = decode("{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":\"2025-11-24T17:00:00.123+01:00\"}");
        var zulu = decode("{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":\"2025-11-24T16:00:00.123456Z\"}");
        assertThat(epoch.readings).extracting(Reading::timestamp).containsExactly(1764000000123L);
        assertThat(iso.readings).extracting(Reading::timestamp).containsExactly(1764000000123L);
        assertThat(zulu.readings).extracting(Reading::timestamp).containsExactly(1764000000123L);
    }

    private Collected decodeBytes(byte[] bytes) {
        var sink = new Collected();
        decoder.decode(bytes, 0, bytes.length, sink);
        return sink;
    }

    private static byte[] withBytes(String before, int[] middle, String after) {
        var out = new java.io.ByteArrayOutputStream();
        out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
        for (int b : middle) {
            out.write(b);
        }
        out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    @ParameterizedTest
    @CsvSource({
        "C1 81 C1 82, overlong 'AB' in the identifier",
        "C0 AF, overlong '/'",
        "E0 80 AF, three-byte overlong '/'",
        "ED A0 80, a UTF-16 surrogate",
        "F4 90 80 80, past U+10FFFF",
        "F8 88 80 80 80, a five-byte form",
        "C3, a sequence cut short by the closing quote",
    })
    void rejectsIllFormedUtf8ThatAParserWouldDecodeQuietly(String hex, String what) {
        int[] bytes = java.util.Arrays.stream(hex.split(" ")).mapToInt(h -> Integer.parseInt(h, 16)).toArray();
        var out = decodeBytes(withBytes("{\"capteur_id\":\"", bytes, "\",\"temperature\":7}"));
        assertThat(out.readings).as(what).isEmpty();
        assertThat(out.rejected).as(what).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.MALFORMED_JSON);
            assertThat(r.message()).startsWith("malformed JSON: invalid UTF-8 at byte 16 of the value (0x"
                    + hex.substring(0, 2) + ":");
        });
    }

    @Test
    void acceptsWellFormedUtf8OfEveryLength() {
        // \u00e9 (2 bytes in UTF-8), \u20ac (3), U+1F600 (4) in a field the server ignores.
        var out = decode("{\"note\":\"\u00e9 \u20ac " + new String(Character.toChars(0x1F600))
                + "\",\"capteur_id\":\"a\",\"temperature\":1}");
        assertThat(out.rejected).isEmpty();
        assertThat(out.readings).containsExactly(new Reading("a", 1, Reading.NO_TIMESTAMP));
    }

    @Test
    void anIllFormedValueInASequenceCostsOnlyItself() {
        byte[] good = "{\"capteur_id\":\"a\",\"temperature\":1}".getBytes(StandardCharsets.UTF_8);
        byte[] bad = withBytes("{\"capteur_id\":\"", new int[] {0xC1, 0x81}, "\",\"temperature\":2}");
        var all = new java.io.ByteArrayOutputStream();
        all.writeBytes(good);
        all.writeBytes(bad);
        all.writeBytes(good);
        byte[] data = all.toByteArray();
        var sink = new Collected();
        try (var sequence = decoder.sequence(data, 0, data.length)) {
            sequence.next(good.length, sink);
            sequence.next(bad.length, sink);
            sequence.next(good.length, sink);
        }
        assertThat(sink.readings).hasSize(2);
        assertThat(sink.rejected).singleElement().extracting(Rejected::reason).isEqualTo(RejectReason.MALFORMED_JSON);
    }

    @Test
    void ignoresUnknownFieldsWhateverTheirShape() {
        var out = decode("{\"unit\":\"C\",\"capteur_id\":\"a\",\"meta\":{\"x\":[1,2,{\"y\":null}]},\"temperature\":-4}");
        assertThat(out.readings).containsExactly(new Reading("a", -4, Reading.NO_TIMESTAMP));
    }

    @Test
    void storesTheValidElementsOfABatchAndNamesTheInvalidOnes() {
        var out = decode("[{\"capteur_id\":\"a\",\"temperature\":1},{\"capteur_id\":\"b\"},42,"
                + "{\"capteur_id\":\"c\",\"temperature\":3}]");
        assertThat(out.readings).extracting(Reading::capteurId).containsExactly("a", "c");
        assertThat(out.rejected).extracting(Rejected::element, Rejected::reason).containsExactly(
                org.assertj.core.groups.Tuple.tuple(2, RejectReason.MISSING_FIELD),
                org.assertj.core.groups.Tuple.tuple(3, RejectReason.NOT_A_READING));
        assertThat(out.rejected.get(0).message()).startsWith("element 2: temperature is missing");
    }

    @Test
    void rejectsAWholeBatchThatIsNotValidJson() {
        var out = decode("[{\"capteur_id\":\"a\",\"temperature\":1},{\"capteur_id\":\"b\",\"temperature\":2]");
        assertThat(out.readings).isEmpty();
        assertThat(out.rejected).singleElement().satisfies(r -> {
            assertThat(r.element()).isZero();
            assertThat(r.reason()).isEqualTo(RejectReason.MALFORMED_JSON);
        });
    }

    @Test
    void recognisesTheAcksRequest() {
        assertThat(decode("{\"acks\": true}").acks).containsExactly(true);
        assertThat(decode("{\"acks\": false}").acks).containsExactly(false);
        var notAcks = decode("{\"acks\": true, \"capteur_id\": \"a\", \"temperature\": 2}");
        assertThat(notAcks.acks).isEmpty();
        assertThat(notAcks.readings).hasSize(1);
    }

    @Test
    void recognisesTheAuthRequestAloneOrWithAcks() {
        var alone = decode("{\"auth\": \"s3cret\"}");
        assertThat(alone.auth).containsExactly("s3cret");
        assertThat(alone.acks).isEmpty();
        var both = decode(Reply.authRequest("t\"k", true));
        assertThat(both.auth).containsExactly("t\"k");
        assertThat(both.acks).containsExactly(true);
        assertThat(decode("{\"auth\": 42}").auth).as("not a string: no token").containsExactly("");
        assertThat(decode(Reply.authRequest("x".repeat(ReadingDecoder.MAX_TOKEN_CHARS), false)).auth)
                .containsExactly("x".repeat(ReadingDecoder.MAX_TOKEN_CHARS));
        assertThat(decode(Reply.authRequest("x".repeat(ReadingDecoder.MAX_TOKEN_CHARS + 1), false)).auth)
                .as("too long: no token").containsExactly("");
        var reading = decode("{\"auth\": \"x\", \"capteur_id\": \"a\", \"temperature\": 2}");
        assertThat(reading.auth).as("a reading with an auth field is a reading").isEmpty();
        assertThat(reading.readings).hasSize(1);
        assertThat(decode("{\"auth\": \"x\", \"auth\": \"y\"}").auth).as("given twice").isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            {"temperature": 1}                                           | MISSING_FIELD     | capteur_id is missing
            {"capteur_id": "a"}                                          | MISSING_FIELD     | temperature is missing
            {"capteur_id": "a", "temperature": "23.5"}                   | WRONG_TYPE        | temperature must be a number, got a string
            {"capteur_id": "a", "temperature": null}                     | WRONG_TYPE        | temperature must be a number, got null
            {"capteur_id": 7, "temperature": 1}                          | WRONG_TYPE        | capteur_id must be a string, got a number
            {"capteur_id": "", "temperature": 1}                         | INVALID_ID        | capteur_id must not be empty
            {"capteur_id": "a b", "temperature": 1}                      | INVALID_ID        | capteur_id may only contain
            {"capteur_id": "é", "temperature": 1}                        | INVALID_ID        | capteur_id may only contain
            {"capteur_id": "a", "temperature": -273.16}                  | OUT_OF_RANGE      | below absolute zero
            {"capteur_id": "a", "temperature": 1000.5}                   | OUT_OF_RANGE      | above the maximum
            {"capteur_id": "a", "temperature": 1e400}                    | OUT_OF_RANGE      | finite
            {"capteur_id": "a", "temperature": 1, "timestamp": -1}       | INVALID_TIMESTAMP | outside
            {"capteur_id": "a", "temperature": 1, "timestamp": 1.5}      | INVALID_TIMESTAMP | must be epoch milliseconds
            {"capteur_id": "a", "temperature": 1, "timestamp": 99999999999999999999} | INVALID_TIMESTAMP | outside
            {"capteur_id": "a", "temperature": 1, "timestamp": "yesterday"} | INVALID_TIMESTAMP | not an ISO-8601 time
            {"capteur_id": "a", "temperature": 1, "timestamp": "2025-11-24T12:00:00"} | INVALID_TIMESTAMP | not an ISO-8601 time
            {"capteur_id": "a", "temperature": 1, "capteur_id": "b"}     | MALFORMED_JSON    | the field capteur_id is given twice
            {"capteur_id": "a", "temperature": 1, "temperature": 2}      | MALFORMED_JSON    | the field temperature is given twice
            {"capteur_id": "a", "temperature": 1,}                       | MALFORMED_JSON    | malformed JSON
            {"capteur_id": "a", "temperature": 01}                       | MALFORMED_JSON    | malformed JSON
            {"capteur_id": "a", "temperature": NaN}                      | MALFORMED_JSON    | malformed JSON
            "just a string"                                              | NOT_A_READING     | must be a JSON object
            {"capteur_id": "a", "temperature": 1} {"capteur_id": "b", "temperature": 1} | MALFORMED_JSON | more than one JSON value
            """)
    void rejectsBadReadingsWithAReasonForAPerson(String json, RejectReason reason, String message) {
        var out = decode(json);
        assertThat(out.readings).isEmpty();
        assertThat(out.rejected).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(reason);
            assertThat(r.message()).contains(message);
        });
    }

    @Test
    void malformedJsonMessagesSpeakToPeopleNotToJacksonUsers() {
        for (String json : new String[] {"{\"capteur_id\":\"a\",\"temperature\":1" + "2".repeat(5000) + "}",
                "{\"capteur_id\":\"a\",\"temperature\":1", "[{\"capteur_id\":\"a\"", "{\"a\" 1}"}) {
            var out = decode(json);
            assertThat(out.rejected).singleElement().satisfies(r -> {
                assertThat(r.reason()).isEqualTo(RejectReason.MALFORMED_JSON);
                assertThat(r.message()).startsWith("malformed JSON: ").doesNotContain("Source", "REDACTED",
                        "StreamReadConstraints", "StreamReadFeature", "\n");
            });
        }
    }

    @Test
    void aRepeatedFieldCostsOnlyItsElementAndUnknownRepeatsAreIgnored() {
        var out = decode("[{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":1,\"timestamp\":2},"
                + "{\"capteur_id\":\"b\",\"temperature\":2,\"note\":1,\"note\":2}]");
        assertThat(out.readings).extracting(Reading::capteurId).containsExactly("b");
        assertThat(out.rejected).singleElement().satisfies(r -> {
            assertThat(r.element()).isEqualTo(1);
            assertThat(r.message()).contains("timestamp is given twice");
        });
    }

    @Test
    void aSequenceDecodesValuesLaidEndToEndAndRecoversAfterABrokenOne() {
        String[] values = {"{\"capteur_id\":\"a\",\"temperature\":1}", "[{\"capteur_id\":\"b\",\"temperature\":2}]",
            "{\"capteur_id\":\"c\" \"temperature\":3}", "{\"capteur_id\":\"d\",\"temperature\":4}",
            "{\"acks\":true}", "{\"capteur_id\":\"e\",\"temperature\":5,}", "[]", "{\"capteur_id\":\"f\",\"temperature\":6}"};
        byte[] data = String.join("", values).getBytes(StandardCharsets.UTF_8);
        var sink = new Collected();
        List<Integer> rejectedAt = new ArrayList<>();
        try (var sequence = decoder.sequence(data, 0, data.length)) {
            for (int i = 0; i < values.length; i++) {
                int before = sink.rejected.size();
                sequence.next(values[i].length(), sink);
                if (sink.rejected.size() > before) {
                    rejectedAt.add(i);
                }
            }
        }
        assertThat(sink.readings).extracting(Reading::capteurId).containsExactly("a", "b", "d", "f");
        assertThat(rejectedAt).containsExactly(2, 5);
        assertThat(sink.acks).containsExactly(true);
        // Where the error is, counted within the value, as if it had come alone.
        assertThat(sink.rejected).extracting(Rejected::message)
                .containsExactly(decode(values[2]).rejected.get(0).message(), decode(values[5]).rejected.get(0).message())
                .allSatisfy(message -> assertThat(message).contains("line 1, column"));
    }

    /** The scanner and the parser must agree on where a value ends; if they ever do not, the value is refused. */
    @Test
    void aSequenceRefusesAValueThatDoesNotEndWhereItsLengthSaysAndGoesOn() {
        String prefix = "ignored before the offset";
        String first = "{\"capteur_id\":\"a\",\"temperature\":1} ";
        String second = "{\"capteur_id\":\"b\",\"temperature\":2}";
        byte[] data = (prefix + first + second).getBytes(StandardCharsets.UTF_8);
        var sink = new Collected();
        try (var sequence = decoder.sequence(data, prefix.length(), data.length)) {
            sequence.next(first.length(), sink);
            sequence.next(second.length(), sink);
        }
        assertThat(sink.rejected).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.MALFORMED_JSON);
            assertThat(r.message()).contains("does not end where its brackets close");
        });
        assertThat(sink.readings).extracting(Reading::capteurId).containsExactly("b");
    }

    @Test
    void rejectsNestingDeeperThanTheLimit() {
        var out = decode("{\"capteur_id\":\"a\",\"temperature\":1,\"x\":" + "[".repeat(100) + "]".repeat(100) + "}");
        assertThat(out.rejected).singleElement().extracting(Rejected::reason).isEqualTo(RejectReason.MALFORMED_JSON);
    }

    @Test
    void rejectsInvalidUtf8InsideAString() {
        byte[] bytes = "{\"capteur_id\":\"a\",\"temperature\":1,\"note\":\"x\"}".getBytes(StandardCharsets.UTF_8);
        bytes[bytes.length - 3] = (byte) 0xC3;
        var sink = new Collected();
        decoder.decode(bytes, 0, bytes.length, sink);
        assertThat(sink.rejected).singleElement().extracting(Rejected::reason).isEqualTo(RejectReason.MALFORMED_JSON);
    }

    @Test
    void givesTheSameStringInstanceForARepeatedIdentifier() {
        var first = decode("{\"capteur_id\":\"capteur_42\",\"temperature\":1}");
        var second = decode("{\"capteur_id\":\"capteur_42\",\"temperature\":2}");
        assertThat(second.readings.get(0).capteurId()).isSameAs(first.readings.get(0).capteurId());
    }

    @Test
    void honoursTheConfiguredMaximum() {
        var strict = new ReadingDecoder(new ReadingRules(50, ReadingRules.DEFAULT_MAX_CLOCK_SKEW));
        byte[] bytes = "{\"capteur_id\":\"a\",\"temperature\":50.5}".getBytes(StandardCharsets.UTF_8);
        var sink = new Collected();
        strict.decode(bytes, 0, bytes.length, sink);
        assertThat(sink.rejected).singleElement().extracting(Rejected::reason).isEqualTo(RejectReason.OUT_OF_RANGE);
    }

    @Test
    void aTimestampTooFarAheadOfTheServersClockIsRejectedWithHowFar() {
        long inAnHour = NOW + 3_600_000L;
        assertThat(decode(reading(inAnHour)).readings).hasSize(1);
        var ahead = decode(reading(inAnHour + 1));
        assertThat(ahead.readings).isEmpty();
        assertThat(ahead.rejected).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.FUTURE);
            assertThat(r.message()).contains("2026-12-03T13:00:00.001Z", "1 h 00 min ahead", "at most 1h");
        });
        var nextYear = decode("{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":\"2027-12-03T12:00:00Z\"}");
        assertThat(nextYear.rejected).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.FUTURE);
            assertThat(r.message()).contains("365 days 0 h ahead");
        });
        // The past is not limited: back-filling old readings is what replay files are for.
        assertThat(decode(reading(0)).readings).hasSize(1);
    }

    @Test
    void theClockIsReadForEachValueDecoded() {
        long[] now = {NOW};
        var moving = new ReadingDecoder(ReadingRules.DEFAULT, () -> now[0]);
        byte[] bytes = reading(NOW + 7_200_000L).getBytes(StandardCharsets.UTF_8);
        var early = new Collected();
        moving.decode(bytes, 0, bytes.length, early);
        now[0] += 3_600_000L;
        var later = new Collected();
        moving.decode(bytes, 0, bytes.length, later);
        assertThat(early.rejected).extracting(Rejected::reason).containsExactly(RejectReason.FUTURE);
        assertThat(later.readings).hasSize(1);
    }

    @Test
    void onlyTheFirstRejectionsOfAValueCarryAMessageTheOthersAreCounted() {
        int elements = 20_000;
        var batch = new StringBuilder("[");
        for (int i = 0; i < elements; i++) {
            batch.append(i % 2 == 0 ? "{}," : "7,");
        }
        batch.append("{\"capteur_id\":\"ok\",\"temperature\":1}]");
        var out = decode(batch.toString());
        assertThat(out.readings).extracting(Reading::capteurId).containsExactly("ok");
        assertThat(out.rejected).hasSize(ReadingDecoder.MAX_REPORTED_PER_VALUE);
        assertThat(out.rejected).extracting(Rejected::element).startsWith(1, 2, 3);
        int missing = (int) out.rejected.stream().filter(r -> r.reason() == RejectReason.MISSING_FIELD).count();
        int notReadings = ReadingDecoder.MAX_REPORTED_PER_VALUE - missing;
        assertThat(out.unreported).containsEntry(RejectReason.MISSING_FIELD, elements / 2 - missing)
                .containsEntry(RejectReason.NOT_A_READING, elements / 2 - notReadings);
        // The next value starts from nothing.
        var next = decode("[{}]");
        assertThat(next.rejected).hasSize(1);
        assertThat(next.unreported).isEmpty();
    }

    @Test
    void anEchoedFieldIsCutAndMarkedAndCannotForgeALine() {
        String id = "\\n2026-01-01 FORGED " + "\\u0001".repeat(20_000);
        var out = decode("{\"capteur_id\":\"" + id + "\",\"temperature\":1}");
        assertThat(out.rejected).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.INVALID_ID);
            assertThat(r.message()).hasSizeLessThanOrEqualTo(SafeText.MAX_MESSAGE_CHARS)
                    .contains("\\u000a2026-01-01 FORGED", "(cut, 20019 characters)")
                    .doesNotContain("\n", "\u0001");
        });
        var timestamp = decode("{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":\"" + id + "\"}");
        assertThat(timestamp.rejected).singleElement().satisfies(r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.INVALID_TIMESTAMP);
            assertThat(r.message()).hasSizeLessThanOrEqualTo(SafeText.MAX_MESSAGE_CHARS).contains("(cut, ")
                    .doesNotContain("\n");
        });
    }

    private static String reading(long timestamp) {
        return "{\"capteur_id\":\"a\",\"temperature\":1,\"timestamp\":" + timestamp + "}";
    }
}
