package fr.mesures.serveur.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The token file as operators write it, and {@code Authorization} headers as clients send them. */
class BearerTokenTest {

    @TempDir
    Path dir;

    private BearerToken token(String content) throws Exception {
        return BearerToken.read(Files.writeString(dir.resolve("token"), content));
    }

    @Test
    void theFileIsTrimmedAsPrometheusTrimsItsCredentialsFile() throws Exception {
        BearerToken token = token("\n  abc.DEF-123_~+/=\r\n\n");
        assertThat(token.accepts("Bearer abc.DEF-123_~+/=")).isTrue();
        assertThat(token.accepts("Bearer  abc.DEF-123_~+/=  ")).isTrue();
        assertThat(token.accepts("BEARER abc.DEF-123_~+/=")).isTrue();
    }

    @Test
    void anythingButBearerAndTheExactTokenIsRefused() throws Exception {
        BearerToken token = token("abcdef");
        assertThat(token.accepts(null)).isFalse();
        assertThat(token.accepts("")).isFalse();
        assertThat(token.accepts("Bearer")).isFalse();
        assertThat(token.accepts("Bearer ")).isFalse();
        assertThat(token.accepts("Bearerabcdef")).isFalse();
        assertThat(token.accepts("Basic abcdef")).isFalse();
        assertThat(token.accepts("abcdef")).isFalse();
        assertThat(token.accepts("Bearer abcde")).isFalse();
        assertThat(token.accepts("Bearer abcdefg")).isFalse();
        assertThat(token.accepts("Bearer ABCDEF")).as("the token is case-sensitive").isFalse();
        assertThat(token.accepts("Bearer abcdef abcdef")).isFalse();
    }

    @Test
    void aFileThatCannotBeATokenIsAOneLineErrorNamingIt() throws Exception {
        assertThatThrownBy(() -> BearerToken.read(dir.resolve("absent"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the token file " + dir.resolve("absent") + " does not exist");
        assertThatThrownBy(() -> BearerToken.read(dir)).hasMessage("the token file " + dir + " is a directory");
        assertThatThrownBy(() -> token("")).hasMessageEndingWith(" is empty");
        assertThatThrownBy(() -> token(" \n\t\r\n")).hasMessageEndingWith(" is empty");
        assertThatThrownBy(() -> token("two words")).hasMessageContaining("character 4");
        assertThatThrownBy(() -> token("caf\u00e9")).hasMessageContaining("non-ASCII");
        assertThatThrownBy(() -> token("a".repeat(BearerToken.MAX_BYTES + 1)))
                .hasMessageContaining("longer than 4096 bytes");
        assertThat(token("a".repeat(BearerToken.MAX_BYTES)).accepts("Bearer " + "a".repeat(BearerToken.MAX_BYTES)))
                .isTrue();
        Path binary = Files.write(dir.resolve("binary"), new byte[] {(byte) 0x30, (byte) 0x82, 0, 1});
        assertThatThrownBy(() -> BearerToken.read(binary)).message().doesNotContain("\n")
                .contains(binary.toString());
    }

    @Test
    void theTokenNeverShowsInItsText() throws Exception {
        assertThat(token("hunter2").toString()).doesNotContain("hunter2");
    }
}
