package fr.mesures.protocole;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SafeTextTest {

    @Test
    void aShortFieldIsQuotedWhole() {
        assertThat(SafeText.quote("capteur 1")).isEqualTo("\"capteur 1\"");
    }

    @Test
    void aLongFieldIsCutAndSaysHowLongItWas() {
        String quoted = SafeText.quote("x".repeat(100_000));
        assertThat(quoted).isEqualTo("\"" + "x".repeat(SafeText.MAX_ECHO_CHARS) + "\"… (cut, 100000 characters)");
    }

    @Test
    void controlCharactersAndLineSeparatorsAreEscaped() {
        assertThat(SafeText.quote("a\nb\r\u0000\u2028")).isEqualTo("\"a\\u000ab\\u000d\\u0000\\u2028\"");
        assertThat(SafeText.bounded("line one\nFORGED line")).isEqualTo("line one\\u000aFORGED line");
    }

    @Test
    void aCutNeverLeavesHalfASurrogatePair() {
        String smileys = "\uD83D\uDE00".repeat(100);
        String quoted = SafeText.quote(smileys);
        assertThat(quoted).doesNotContain("\\u");
        assertThat(quoted.codePoints().filter(cp -> cp >= 0xD800 && cp <= 0xDFFF)).isEmpty();
        String bounded = SafeText.bounded(smileys.repeat(10));
        assertThat(bounded).hasSizeLessThanOrEqualTo(SafeText.MAX_MESSAGE_CHARS).endsWith("…");
        assertThat(bounded.codePoints().filter(cp -> cp >= 0xD800 && cp <= 0xDFFF)).isEmpty();
    }

    @Test
    void loneSurrogatesAreEscaped() {
        assertThat(SafeText.bounded("a\uD83Db")).isEqualTo("a\\ud83db");
        assertThat(SafeText.bounded("a\uDE00")).isEqualTo("a\\ude00");
    }

    @Test
    void aMessageWithinTheLimitIsKeptAsItIs() {
        String message = "temperature is missing";
        assertThat(SafeText.bounded(message)).isSameAs(message);
        assertThat(SafeText.bounded("y".repeat(5000))).hasSize(SafeText.MAX_MESSAGE_CHARS).endsWith("…");
    }
}
