package fr.mesures.protocole;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ReplyTest {

    @Test
    void acksAndErrorsSurviveTheirOwnEncoding() {
        Reply ack = new Reply.Ack(42);
        Reply error = Reply.Error.ofValue(7, 3, "element 3: a \"quoted\" word\nand a line break");
        Reply dropped = new Reply.Error("12 lines dropped", 0, 0, 12);
        Reply notice = Reply.Error.ofConnection("bye");
        for (Reply reply : new Reply[] {ack, error, dropped, notice}) {
            assertThat(reply.toJson()).endsWith("\n").doesNotContain("\n\n");
            assertThat(reply.toJson().indexOf('\n')).isEqualTo(reply.toJson().length() - 1);
            assertThat(Reply.parse(reply.toJson())).isEqualTo(reply);
        }
    }

    @Test
    void encodesTheDocumentedShapes() {
        assertThat(new Reply.Ack(5).toJson()).isEqualTo("{\"ack\":5}\n");
        assertThat(Reply.Error.ofValue(3, 0, "bad").toJson()).isEqualTo("{\"error\":\"bad\",\"index\":3}\n");
        assertThat(Reply.Error.ofValue(3, 2, "bad").toJson())
                .isEqualTo("{\"error\":\"bad\",\"index\":3,\"element\":2}\n");
    }

    @Test
    void ignoresUnknownFieldsAndRejectsNonReplies() {
        assertThat(Reply.parse("{\"ack\": 9, \"future\": {\"x\": 1}}")).isEqualTo(new Reply.Ack(9));
        assertThatThrownBy(() -> Reply.parse("{\"hello\": 1}")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Reply.parse("not json")).isInstanceOf(IllegalArgumentException.class);
    }
}
