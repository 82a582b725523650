package fr.mesures.bench.charge;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.protocole.Reply;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplyReaderTest {

    private final List<String> seen = new ArrayList<>();
    private final ReplyReader.Handler handler = new ReplyReader.Handler() {
        @Override
        public void ack(long n) {
            seen.add("ack " + n);
        }

        @Override
        public void error(Reply.Error error) {
            seen.add("error " + error.index() + " " + error.message());
        }

        @Override
        public void garbage(String line) {
            seen.add("garbage " + line);
        }

        @Override
        public void tooLong(long bytes) {
            seen.add("too long " + bytes);
        }

        @Override
        public void cut(String start) {
            seen.add("cut " + start);
        }
    };

    @Test
    void linesCutAnywhereAreReadWhole() {
        byte[] all = ("{\"ack\":12}\n{\"error\":\"temperature is missing\",\"index\":13}\n{\"ack\":1234567}\n"
                + "{ \"ack\" : 99 }\nnot json\n").getBytes(StandardCharsets.UTF_8);
        ReplyReader reader = new ReplyReader();
        for (int i = 0; i < all.length; i += 3) {
            reader.feed(all, i, Math.min(all.length, i + 3), handler);
        }
        reader.endOfStream(handler);
        assertThat(seen).containsExactly("ack 12", "error 13 temperature is missing", "ack 1234567", "ack 99",
                "garbage not json");
    }

    @Test
    void aLineCutByTheEndOfTheStreamIsReported() {
        byte[] all = "{\"ack\":12}\n{\"ack\":2".getBytes(StandardCharsets.US_ASCII);
        ReplyReader reader = new ReplyReader();
        reader.feed(all, 0, all.length, handler);
        reader.endOfStream(handler);
        assertThat(seen).containsExactly("ack 12", "cut {\"ack\":2");
    }

    @Test
    void anOverLongLineIsReportedOnceAndItsTailIsNotTakenForALine() {
        ReplyReader reader = new ReplyReader();
        byte[] chunk = new byte[40_000];
        java.util.Arrays.fill(chunk, (byte) 'x');
        reader.feed(chunk, 0, chunk.length, handler);
        reader.feed(chunk, 0, chunk.length, handler);      // 80,000 bytes: beyond any reply
        byte[] end = "xyz}\n{\"ack\":5}\n".getBytes(StandardCharsets.US_ASCII);
        reader.feed(end, 0, end.length, handler);
        reader.feed(chunk, 0, chunk.length, handler);
        reader.feed(chunk, 0, chunk.length, handler);      // a second one, cut by the end of the stream
        reader.endOfStream(handler);
        assertThat(seen).containsExactly("too long 80004", "ack 5", "too long 80000");
    }

    @Test
    void theCommonAckIsRecognisedWithoutParsing() {
        byte[] b = "{\"ack\":4096}".getBytes(StandardCharsets.US_ASCII);
        assertThat(ReplyReader.fastAck(b, 0, b.length)).isEqualTo(4096);
        byte[] other = "{\"ack\":40x}".getBytes(StandardCharsets.US_ASCII);
        assertThat(ReplyReader.fastAck(other, 0, other.length)).isEqualTo(-1);
    }
}
