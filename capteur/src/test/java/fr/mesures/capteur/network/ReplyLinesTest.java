package fr.mesures.capteur.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplyLinesTest {

    private final ReplyLines lines = new ReplyLines();
    private final List<String> seen = new ArrayList<>();

    private void feed(String text) throws IOException {
        lines.feed(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), seen::add);
    }

    @Test
    void linesSplitAcrossReadsAreJoined() throws IOException {
        feed("{\"ack\":1}\n{\"ac");
        feed("k\":2}\n{\"error\":\"température");
        feed(" trop haute\",\"index\":3}\n");
        assertThat(seen).containsExactly("{\"ack\":1}", "{\"ack\":2}",
                "{\"error\":\"température trop haute\",\"index\":3}");
    }

    @Test
    void anEndlessLineIsRefused() {
        assertThatThrownBy(() -> {
            for (int i = 0; i < 100; i++) {
                feed("x".repeat(1000));
            }
        }).isInstanceOf(IOException.class).hasMessageContaining("longer than");
    }
}
