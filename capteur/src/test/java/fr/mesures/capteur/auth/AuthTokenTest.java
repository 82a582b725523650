package fr.mesures.capteur.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.protocole.Reply;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AuthTokenTest {

    @TempDir
    Path dir;

    @Test
    void theRequestIsTheProtocolsAuthValueAskingForAcknowledgements() {
        var token = new AuthToken("s3cr\\et\"x");
        assertThat(token.request()).isEqualTo(Reply.authRequest("s3cr\\et\"x", true))
                .isEqualTo("{\"auth\":\"s3cr\\\\et\\\"x\",\"acks\":true}\n");
    }

    @Test
    void itsTextNeverShowsTheSecret() {
        var token = new AuthToken("hunter2-abcdef");
        assertThat(token.toString()).doesNotContain("hunter2");
        assertThat(fr.mesures.capteur.CapteurSettings.builder("localhost", 1).token(token).build().toString())
                .doesNotContain("hunter2");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "two words", "tab\there", "caf\u00e9", "line\nbreak"})
    void aTokenThatIsNotPrintableAsciiIsRefusedWithoutQuotingIt(String text) {
        assertThatThrownBy(() -> new AuthToken(text)).isInstanceOf(IllegalArgumentException.class)
                .satisfies(e -> {
                    if (text.length() > 4) {
                        assertThat(e.getMessage()).doesNotContain(text);
                    }
                });
    }

    @Test
    void aTokenLongerThanTheLimitIsRefused() {
        assertThat(new AuthToken("a".repeat(AuthToken.MAX_LENGTH)).value()).hasSize(AuthToken.MAX_LENGTH);
        assertThatThrownBy(() -> new AuthToken("a".repeat(AuthToken.MAX_LENGTH + 1)))
                .hasMessageContaining("longer than " + AuthToken.MAX_LENGTH);
    }

    @Test
    void aFileIsReadWithoutTheWhitespaceAroundTheToken() throws Exception {
        Path file = Files.writeString(dir.resolve("token"), "  abc.DEF-123\n\n");
        assertThat(AuthToken.readFile(file).value()).isEqualTo("abc.DEF-123");
    }

    @Test
    void anEmptyMissingOrHugeFileIsOneClearLineNamingIt() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty"), " \n");
        assertThatThrownBy(() -> AuthToken.readFile(empty)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the token file " + empty + " is empty");
        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> AuthToken.readFile(missing)).hasMessageStartingWith("cannot read the token file "
                + missing);
        Path huge = Files.write(dir.resolve("huge"), "x".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> AuthToken.readFile(huge)).hasMessageContaining("not a token file");
        assertThatThrownBy(() -> AuthToken.readFile(dir)).hasMessageStartingWith("cannot read the token file");
    }
}
