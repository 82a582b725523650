package fr.mesures.serveur.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.protocole.RejectReason;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FrameScannerTest {

    /** What the scanner reported, in order: a value's text, or "!" + reason. */
    private static final class Events implements FrameScanner.Sink {
        final List<String> events = new ArrayList<>();

        @Override
        public void value(byte[] data, int offset, int length) {
            events.add(new String(data, offset, length, StandardCharsets.UTF_8));
        }

        @Override
        public void rejected(RejectReason reason, String message) {
            events.add("!" + reason.label());
        }
    }

    private static List<String> scanWhole(String stream, int max) {
        return scanInChunks(stream.getBytes(StandardCharsets.UTF_8), max, Integer.MAX_VALUE, true);
    }

    private static List<String> scanInChunks(byte[] stream, int max, int chunk, boolean end) {
        var scanner = new FrameScanner(max);
        var events = new Events();
        for (int from = 0; from < stream.length; from += chunk) {
            int to = (int) Math.min(stream.length, (long) from + chunk);
            // Scan from a copy at an offset, as the selector's reused buffer would hold it.
            byte[] buffer = new byte[to - from + 7];
            System.arraycopy(stream, from, buffer, 7, to - from);
            scanner.scan(buffer, 7, buffer.length, events);
        }
        if (end) {
            scanner.endOfInput(events);
        }
        return events.events;
    }

    @Test
    void cutsNdjsonPrettyPrintedAndConcatenatedValues() {
        String pretty = "{\n  \"capteur_id\": \"capteur_1\",\n  \"temperature\": 23.5\n}";
        assertThat(scanWhole(pretty, 1024)).containsExactly(pretty);
        assertThat(scanWhole("{\"a\":1}\n{\"b\":2}\n", 1024)).containsExactly("{\"a\":1}", "{\"b\":2}");
        assertThat(scanWhole("{\"a\":1}{\"b\":2}[{\"c\":3}]", 1024))
                .containsExactly("{\"a\":1}", "{\"b\":2}", "[{\"c\":3}]");
        assertThat(scanWhole(" \t\r\n{\"a\":1} \r\n  {\"b\":2}", 1024)).containsExactly("{\"a\":1}", "{\"b\":2}");
    }

    @Test
    void bracketsAndQuotesInsideStringsDoNotCount() {
        String tricky = "{\"capteur_id\":\"}]{[\\\"\\\\\",\"temperature\":1}";
        assertThat(scanWhole(tricky + "\n{\"x\":1}", 1024)).containsExactly(tricky, "{\"x\":1}");
    }

    @Test
    void givesTheSameValuesWhateverTheReadBoundaries() {
        var random = new Random(7);
        var stream = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            stream.append(switch (random.nextInt(4)) {
                case 0 -> "{\"capteur_id\":\"c" + i + "\",\"temperature\":" + i + "}\n";
                case 1 -> "[{\"s\":\"a\\\"]\"},{\"t\":[1,[2]]}]";
                case 2 -> "{\n  \"k\": \"{[\\\\\"\n}  ";
                default -> "oops " + i + "\n";
            });
        }
        byte[] bytes = stream.toString().getBytes(StandardCharsets.UTF_8);
        List<String> whole = scanInChunks(bytes, 4096, bytes.length, true);
        for (int chunk : new int[] {1, 2, 3, 7, 64, 1000}) {
            assertThat(scanInChunks(bytes, 4096, chunk, true)).as("chunks of %d", chunk).isEqualTo(whole);
        }
        assertThat(whole).hasSize(200);
    }

    @Test
    void reportsGarbageOnceAndResumesAfterTheNewline() {
        assertThat(scanWhole("hello world {\"not\":\"this\"}\n{\"a\":1}\n42\n{\"b\":2}", 1024))
                .containsExactly("!garbage", "{\"a\":1}", "!garbage", "{\"b\":2}");
    }

    @Test
    void treatsInvalidUtf8AndNulBytesBetweenValuesAsGarbage() {
        byte[] stream = {(byte) 0xC3, 0x28, 0, 0, '\n', '{', '}', 0, '\n'};
        assertThat(scanInChunks(stream, 1024, stream.length, true))
                .containsExactly("!garbage", "{}", "!garbage");
    }

    @Test
    void rejectsATooLargeValueAndSkipsItWithoutKeepingIt() {
        String big = "{\"capteur_id\":\"a\",\"pad\":\"" + "x".repeat(5000) + "\"}";
        byte[] stream = (big + "\n{\"a\":1}\n").getBytes(StandardCharsets.UTF_8);
        var scanner = new FrameScanner(1024);
        var events = new Events();
        int maxBuffered = 0;
        for (int from = 0; from < stream.length; from += 100) {
            int to = Math.min(stream.length, from + 100);
            scanner.scan(stream, from, to, events);
            maxBuffered = Math.max(maxBuffered, scanner.bufferedBytes());
        }
        assertThat(events.events).containsExactly("!too_large", "{\"a\":1}");
        assertThat(maxBuffered).isLessThanOrEqualTo(1024);
    }

    @Test
    void rejectsATooLargeValueThatArrivesInOneRead() {
        assertThat(scanWhole("[" + "1,".repeat(600) + "1]\n{\"a\":1}", 1024)).containsExactly("!too_large", "{\"a\":1}");
    }

    @Test
    void endsABrokenValueAtARawNewlineInsideAString() {
        assertThat(scanWhole("{\"capteur_id\": \"a, \"temperature\": 1}\n{\"b\":2}\n", 1024))
                .containsExactly("!malformed_json", "{\"b\":2}");
    }

    @Test
    void aBackslashDoesNotEscapeARawNewline() {
        assertThat(scanWhole("{\"capteur_id\":\"ab\\\n{\"ok\":1}\n", 1024)).containsExactly("!malformed_json", "{\"ok\":1}");
        byte[] split = "{\"capteur_id\":\"ab\\\n{\"ok\":1}\n".getBytes(StandardCharsets.UTF_8);
        assertThat(scanInChunks(split, 1024, 1, true)).containsExactly("!malformed_json", "{\"ok\":1}");
    }

    @Test
    void reportsAValueCutByTheEndOfTheStream() {
        assertThat(scanWhole("{\"a\":1}\n{\"capteur_id\": \"a\", \"temper", 1024))
                .containsExactly("{\"a\":1}", "!truncated");
        assertThat(scanWhole("{\"a\":1}\n   \n", 1024)).containsExactly("{\"a\":1}");
    }

    @Test
    void aValueThatNeverEndsCostsOneErrorAndBoundedMemory() {
        var scanner = new FrameScanner(64 * 1024);
        var events = new Events();
        byte[] chunk = "[".repeat(64 * 1024).getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 1000; i++) {
            scanner.scan(chunk, 0, chunk.length, events);
            assertThat(scanner.bufferedBytes()).isLessThanOrEqualTo(64 * 1024);
        }
        scanner.endOfInput(events);
        assertThat(events.events).containsExactly("!too_large");
    }

    @Test
    void skipsAUtf8ByteOrderMarkAtTheStart() {
        var out = new ByteArrayOutputStream();
        out.write(0xEF);
        out.write(0xBB);
        out.write(0xBF);
        out.writeBytes("{\"a\":1}".getBytes(StandardCharsets.UTF_8));
        assertThat(scanInChunks(out.toByteArray(), 1024, 100, true)).containsExactly("{\"a\":1}");
    }
}
