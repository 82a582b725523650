package fr.mesures.serveur.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialsTest {

    @TempDir
    Path dir;

    @Test
    void patternsAreAnIdentifierAPrefixOrEverything() {
        assertThat(CapteurPattern.parse("capteur_1").matches("capteur_1")).isTrue();
        assertThat(CapteurPattern.parse("capteur_1").matches("capteur_10")).isFalse();
        assertThat(CapteurPattern.parse("salle_*").matches("salle_12")).isTrue();
        assertThat(CapteurPattern.parse("salle_*").matches("salle")).isFalse();
        assertThat(CapteurPattern.parse("*").matches("anything")).isTrue();
        for (String bad : new String[] {"", "sa*le", "**", "a b", "é*"}) {
            assertThatThrownBy(() -> CapteurPattern.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(CapteurPattern.exactly("*").matches("x")).as("a certificate named * is no wildcard").isFalse();
    }

    @Test
    void tokensAreFoundByTheirDigestAndNeverStored() throws Exception {
        var file = new CredentialsFile(dir.resolve("credentials"));
        String token = file.addToken("salle", CapteurPattern.parse("salle_*"));
        assertThat(token).hasSize(43).matches("[A-Za-z0-9_-]+");
        assertThat(Files.readString(dir.resolve("credentials"))).doesNotContain(token)
                .contains("sha256:" + Credentials.digest(token) + " salle_* salle");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("credentials"))))
                .isEqualTo("rw-------");
        Credentials read = file.read();
        assertThat(read.forToken(token)).map(Credential::name).contains("salle");
        assertThat(read.forToken(token + "x")).isEmpty();
        assertThat(read.forToken("")).isEmpty();
    }

    @Test
    void revokingRemovesOneLineAndKeepsTheRest() throws Exception {
        var file = new CredentialsFile(dir.resolve("credentials"));
        String kept = file.addToken("kept", CapteurPattern.ANY);
        String gone = file.addToken("gone", CapteurPattern.ANY);
        Credentials before = file.read();
        Credential goneCredential = before.forToken(gone).orElseThrow();
        file.revoke("gone");
        Credentials after = file.read();
        assertThat(after.forToken(gone)).isEmpty();
        assertThat(after.forToken(kept)).isPresent();
        assertThat(after.stillHolds(goneCredential)).isFalse();
        assertThat(after.stillHolds(before.forToken(kept).orElseThrow())).isTrue();
        assertThat(Files.readString(dir.resolve("credentials"))).startsWith("# serveur credentials");
        assertThatThrownBy(() -> file.revoke("gone")).hasMessageContaining("no credential is named 'gone'");
        assertThatThrownBy(() -> file.addToken("kept", CapteurPattern.ANY)).hasMessageContaining("exists already");
    }

    @Test
    void certificatesMatchTheirOwnNameUnlessMapped() throws Exception {
        Credentials credentials = Credentials.parse("test", List.of("cert:gw-1 nord_* passerelle"));
        assertThat(credentials.forCertificate("gw-1").allows("nord_3")).isTrue();
        assertThat(credentials.forCertificate("gw-1").name()).isEqualTo("passerelle");
        Credential own = credentials.forCertificate("capteur_7");
        assertThat(own.allows("capteur_7")).isTrue();
        assertThat(own.allows("capteur_8")).isFalse();
        assertThat(credentials.stillHolds(own)).isTrue();
        assertThat(Credentials.NONE.stillHolds(credentials.forCertificate("gw-1"))).as("mapping removed").isFalse();
    }

    @Test
    void aBrokenFileSaysWhichLineAndWhy() {
        String hash = "sha256:" + "a".repeat(64);
        assertThatThrownBy(() -> Credentials.parse("f", List.of("# comment", "", hash + " x")))
                .hasMessage("f:3: expected SUBJECT PATTERN NAME, got 2 field(s)");
        assertThatThrownBy(() -> Credentials.parse("f", List.of("md5:abc x y")))
                .hasMessageStartingWith("f:1: 'md5:abc' must start with sha256:");
        assertThatThrownBy(() -> Credentials.parse("f", List.of("sha256:abc x y")))
                .hasMessageStartingWith("f:1: 'sha256:abc' is not a SHA-256");
        assertThatThrownBy(() -> Credentials.parse("f", List.of(hash + " x a", "cert:c y a")))
                .hasMessageStartingWith("f:2: the name 'a' is already used on line 1");
        assertThatThrownBy(() -> Credentials.parse("f", List.of(hash + " x a", hash + " y b")))
                .hasMessageStartingWith("f:2: the same token is already on line 1");
        assertThatThrownBy(() -> Credentials.parse("f", List.of(hash + " sa*le a")))
                .hasMessageStartingWith("f:1: 'sa*le' is not a capteur_id pattern");
    }
}
