package fr.mesures.systemtests.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The fuzz test's oracle against the examples of docs/protocol.md: if the oracle is wrong, the fuzz test is. */
class FramingModelTest {

    private static FramingModel fed(String text) {
        FramingModel model = new FramingModel();
        model.feed(text.getBytes(StandardCharsets.UTF_8));
        return model;
    }

    @Test
    void valuesFollowEachOtherWithOrWithoutSeparators() {
        assertThat(fed("{\"a\":1}{\"b\":2}\n[{\"c\":3}] \t{\"d\":\n4}").values()).isEqualTo(4);
        assertThat(fed("{\"a\":1}{\"b\":2}").between()).isTrue();
    }

    @Test
    void bracketsInsideStringsDoNotCount() {
        FramingModel model = fed("{\"a\":\"}]\\\"{[\"}");
        assertThat(model.between()).isTrue();
        assertThat(model.values()).isEqualTo(1);
    }

    @Test
    void garbageIsOneValueUpToTheNextNewline() {
        FramingModel model = fed("42 {\"not\":\"a value\"}\n{\"a\":1}");
        assertThat(model.values()).isEqualTo(2);
        assertThat(model.between()).isTrue();
    }

    @Test
    void aRawNewlineInsideAStringEndsTheBrokenValue() {
        FramingModel model = fed("{\"capteur_id\":\"abc\n");
        assertThat(model.between()).isTrue();
        assertThat(fed("{\"capteur_id\":\"abc\n{\"a\":1}").values()).isEqualTo(2);
    }

    @Test
    void anUnclosedBracketSwallowsWhatFollows() {
        FramingModel model = fed("[\n{\"a\":1}\n{\"b\":2}\n");
        assertThat(model.between()).isFalse();
        assertThat(model.values()).isEqualTo(1);
    }
}
