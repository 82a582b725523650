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
        assertThat(quoted).isEqualTo("\"" + "x".repeat(SafeText.MAX_ECHO_CHARS) + "\"... (cut, 100000 characters)");
    }

    @Test
    void controlCharactersAndLineSeparatorsAreEscaped() {
        assertThat(SafeText.quote("a\nb\r\u0000\u2028")).isEqualTo("\"a\\u000ab\\u000d\\u0000\\u2028\"");
        assertThat(SafeText.bounded("line one\nFORGED line")).isEqualTo("line one\\u000aFORGED line");
    }

    @Test
    void everythingOutsideLatin1IsEscapedSoAMessageTakesOneBytePerCharacter() {
        assertThat(SafeText.bounded("23 °C, \u20ac, \uD83D\uDE00, a\uDE00")).isEqualTo(
                "23 °C, \\u20ac, \\ud83d\\ude00, a\\ude00");
        String bounded = SafeText.bounded("\uD83D\uDE00".repeat(1000));
        assertThat(bounded).hasSizeLessThanOrEqualTo(SafeText.MAX_MESSAGE_CHARS).endsWith("...");
        assertThat(bounded.chars()).allMatch(c -> c <= 0xFF);
        assertThat(SafeText.quote("\u00e9t\u00e9 \u4e2d")).isEqualTo("\"\u00e9t\u00e9 \\u4e2d\"");
    }

    @Test
    void aMessageWithinTheLimitIsKeptAsItIs() {
        String message = "temperature is missing";
        assertThat(SafeText.bounded(message)).isSameAs(message);
        assertThat(SafeText.bounded("y".repeat(5000))).hasSize(SafeText.MAX_MESSAGE_CHARS).endsWith("...");
    }
}
