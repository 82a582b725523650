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
    };

    @Test
    void linesCutAnywhereAreReadWhole() {
        byte[] all = ("{\"ack\":12}\n{\"error\":\"temperature is missing\",\"index\":13}\n{\"ack\":1234567}\n"
                + "{ \"ack\" : 99 }\nnot json\n").getBytes(StandardCharsets.UTF_8);
        ReplyReader reader = new ReplyReader();
        for (int i = 0; i < all.length; i += 3) {
            reader.feed(all, i, Math.min(all.length, i + 3), handler);
        }
        assertThat(seen).containsExactly("ack 12", "error 13 temperature is missing", "ack 1234567", "ack 99",
                "garbage not json");
        assertThat(reader.pending()).isZero();
    }

    @Test
    void theCommonAckIsRecognisedWithoutParsing() {
        byte[] b = "{\"ack\":4096}".getBytes(StandardCharsets.US_ASCII);
        assertThat(ReplyReader.fastAck(b, 0, b.length)).isEqualTo(4096);
        byte[] other = "{\"ack\":40x}".getBytes(StandardCharsets.US_ASCII);
        assertThat(ReplyReader.fastAck(other, 0, other.length)).isEqualTo(-1);
    }
}
