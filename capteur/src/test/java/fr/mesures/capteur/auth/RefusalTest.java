package fr.mesures.capteur.auth;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.protocole.ConnectionReason;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.Reply;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class RefusalTest {

    @ParameterizedTest
    @EnumSource(value = ConnectionReason.class, names = {"UNAUTHORIZED", "AUTH_REQUIRED", "REVOKED"})
    void aRefusalOfWhoTheSensorIsIsPermanentWhateverItsIndex(ConnectionReason reason) {
        var line = Reply.Error.ofConnection(reason, "unknown token").toJson();
        var refusal = Refusal.of((Reply.Error) Reply.parse(line));
        assertThat(refusal).hasValueSatisfying(r -> {
            assertThat(r.reason()).isEqualTo(reason.label());
            assertThat(r.message()).contains("unknown token", reason.label());
        });
        var withIndex = new Reply.Error("a reading before the token", 2, 0, 0, reason.label());
        assertThat(Refusal.of(withIndex)).isPresent();
    }

    @Test
    void otherReasonsAreNotRefusals() {
        assertThat(Refusal.of(Reply.Error.ofValue(2, 0, RejectReason.FORBIDDEN, "not yours"))).isEmpty();
        assertThat(Refusal.of(Reply.Error.ofConnection(ConnectionReason.IDLE_TIMEOUT, "idle"))).isEmpty();
        assertThat(Refusal.of(new Reply.Error("an older server", 0, 0, 0, null))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"bad_certificate", "certificate_required", "unknown_ca", "certificate_expired"})
    void aFatalAlertAboutOurCertificateIsPermanentEvenWrapped(String alert) {
        var received = new SSLHandshakeException("Received fatal alert: " + alert);
        assertThat(Refusal.ofTls(received)).hasValueSatisfying(r -> assertThat(r.reason()).isEqualTo("tls:" + alert));
        // After a TLS 1.3 handshake the alert arrives on a read, not as a handshake failure.
        assertThat(Refusal.ofTls(new java.io.IOException("read", new SSLException("Received fatal alert: " + alert))))
                .isPresent();
    }

    @Test
    void otherTlsFailuresAreRetried() {
        assertThat(Refusal.ofTls(new SSLHandshakeException("Received fatal alert: handshake_failure"))).isEmpty();
        assertThat(Refusal.ofTls(new SSLHandshakeException("PKIX path building failed"))).isEmpty();
        assertThat(Refusal.ofTls(new java.io.IOException("Connection reset"))).isEmpty();
    }

    @Test
    void ourOwnRefusalOfTheServersCertificateIsToldApart() {
        var ours = new SSLHandshakeException("PKIX path building failed");
        ours.initCause(new CertificateException("unable to find valid certification path"));
        assertThat(Refusal.isServerCertificateRefused(ours)).isTrue();
        assertThat(Refusal.isServerCertificateRefused(new SSLHandshakeException("Received fatal alert: bad_certificate")))
                .isFalse();
        assertThat(Refusal.isServerCertificateRefused(new java.io.IOException("reset"))).isFalse();
    }
}
