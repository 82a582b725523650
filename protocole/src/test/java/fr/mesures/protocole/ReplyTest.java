package fr.mesures.protocole;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ReplyTest {

    @Test
    void acksAndErrorsSurviveTheirOwnEncoding() {
        Reply ack = new Reply.Ack(42);
        Reply error = Reply.Error.ofValue(7, 3, RejectReason.WRONG_TYPE, "element 3: a \"quoted\" word");
        Reply dropped = Reply.Error.dropped(12, "12 lines dropped");
        Reply notice = Reply.Error.ofConnection(ConnectionReason.IDLE_TIMEOUT, "bye");
        for (Reply reply : new Reply[] {ack, error, dropped, notice}) {
            assertThat(reply.toJson()).endsWith("\n").doesNotContain("\n\n");
            assertThat(reply.toJson().indexOf('\n')).isEqualTo(reply.toJson().length() - 1);
            assertThat(Reply.parse(reply.toJson())).isEqualTo(reply);
        }
    }

    @Test
    void encodesTheDocumentedShapes() {
        assertThat(new Reply.Ack(5).toJson()).isEqualTo("{\"ack\":5}\n");
        assertThat(Reply.Error.ofValue(3, 0, RejectReason.MISSING_FIELD, "bad").toJson())
                .isEqualTo("{\"error\":\"bad\",\"index\":3,\"reason\":\"missing_field\"}\n");
        assertThat(Reply.Error.ofValue(3, 2, RejectReason.OUT_OF_RANGE, "bad").toJson())
                .isEqualTo("{\"error\":\"bad\",\"index\":3,\"element\":2,\"reason\":\"out_of_range\"}\n");
        assertThat(Reply.Error.dropped(4, "gone").toJson())
                .isEqualTo("{\"error\":\"gone\",\"dropped\":4,\"reason\":\"replies_dropped\"}\n");
    }

    @Test
    void theAuthExchangeRoundTrips() {
        assertThat(Reply.parse(new Reply.AuthOk().toJson())).isEqualTo(new Reply.AuthOk());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Reply.parse("{\"auth\": \"no\"}"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(Reply.authRequest("a\"b", true)).isEqualTo("{\"auth\":\"a\\\"b\",\"acks\":true}\n");
        assertThat(Reply.authRequest("t", false)).isEqualTo("{\"auth\":\"t\"}\n");
    }

    @Test
    void aLineFromAnOlderServerWithoutReasonStillParses() {
        assertThat(Reply.parse("{\"error\":\"bad\",\"index\":3}"))
                .isEqualTo(new Reply.Error("bad", 3, 0, 0, null));
    }

    @Test
    void theLongestPossibleLineFitsTheDocumentedMaximum() {
        // Every character of the message at its most expensive: three bytes of UTF-8, or two once JSON-escaped;
        // control characters are escaped before that (six characters each), then the message is cut.
        String longestReason = java.util.stream.Stream.concat(
                        java.util.Arrays.stream(RejectReason.values()).map(RejectReason::label),
                        java.util.Arrays.stream(ConnectionReason.values()).map(ConnectionReason::label))
                .max(java.util.Comparator.comparingInt(String::length)).orElseThrow();
        for (String message : new String[] {"€".repeat(10_000), "\"".repeat(10_000), "\u0001".repeat(10_000),
                "\n".repeat(10_000)}) {
            var line = new Reply.Error(message, Long.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE, longestReason);
            byte[] bytes = line.toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            assertThat(bytes.length).as("line for %s...", message.substring(0, 1)).isLessThanOrEqualTo(
                    Reply.MAX_LINE_BYTES);
            assertThat(line.toJson().indexOf('\n')).isEqualTo(line.toJson().length() - 1);
        }
    }

    @Test
    void ignoresUnknownFieldsAndRejectsNonReplies() {
        assertThat(Reply.parse("{\"ack\": 9, \"future\": {\"x\": 1}}")).isEqualTo(new Reply.Ack(9));
        assertThatThrownBy(() -> Reply.parse("{\"hello\": 1}")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Reply.parse("not json")).isInstanceOf(IllegalArgumentException.class);
    }
}
