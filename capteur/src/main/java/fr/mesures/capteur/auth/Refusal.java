package fr.mesures.capteur.auth;

import fr.mesures.protocole.ConnectionReason;
import fr.mesures.protocole.Reply;
import java.security.cert.CertificateException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * The server's "no" to who the sensor is, which trying again would only repeat: an error line whose reason is
 * {@code unauthorized}, {@code auth_required} or {@code revoked}, or a fatal TLS alert the server sent about the
 * sensor's certificate. The sensor stops on one instead of knocking again and again with the same credential; the
 * {@link #message()} is what a person reads on standard error.
 *
 * @param reason  the server's reason label, or {@code tls:ALERT} for a TLS alert
 * @param message one line for a person, the server's own words included
 */
public record Refusal(String reason, String message) {

    private static final Set<String> PERMANENT_REASONS = Set.of(ConnectionReason.UNAUTHORIZED.label(),
            ConnectionReason.AUTH_REQUIRED.label(), ConnectionReason.REVOKED.label());

    /**
     * Alerts a TLS server sends when it does not accept the client's certificate (or its absence). Others
     * ({@code handshake_failure}, {@code protocol_version}...) say the two ends do not agree on TLS itself, which a
     * change on either side can fix: those are retried.
     */
    private static final Set<String> CERTIFICATE_ALERTS = Set.of("bad_certificate", "certificate_required",
            "unknown_ca", "certificate_unknown", "certificate_expired", "certificate_revoked",
            "unsupported_certificate", "access_denied");

    /** The JDK's words for an alert received from the peer (sun.security.ssl.Alert), stable since Java 11. */
    private static final String RECEIVED_ALERT = "Received fatal alert: ";

    /** A permanent refusal, when this error line is one. Whatever its index: the reason alone decides. */
    public static Optional<Refusal> of(Reply.Error error) {
        if (error.reason() == null || !PERMANENT_REASONS.contains(error.reason())) {
            return Optional.empty();
        }
        return Optional.of(new Refusal(error.reason(), "the server refused this sensor [" + error.reason() + "]: "
                + error.message()));
    }

    /** A permanent refusal, when this failure is the server's fatal TLS alert about our certificate. */
    public static Optional<Refusal> ofTls(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SSLException && t.getMessage() != null && t.getMessage().startsWith(RECEIVED_ALERT)) {
                String alert = t.getMessage().substring(RECEIVED_ALERT.length()).strip().toLowerCase(Locale.ROOT);
                if (CERTIFICATE_ALERTS.contains(alert)) {
                    return Optional.of(new Refusal("tls:" + alert, "the server refused this sensor's TLS"
                            + " certificate (alert " + alert + "): check --tls-cert and --tls-key, and that the server"
                            + " trusts their authority"));
                }
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * True when the failure is the sensor's own refusal of the server's certificate (unknown authority, wrong host
     * name, expired): not permanent, since the server may be given a right certificate, but worth saying clearly.
     */
    public static boolean isServerCertificateRefused(Throwable failure) {
        if (!(failure instanceof SSLHandshakeException)) {
            return false;
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof CertificateException) {
                return true;
            }
        }
        return false;
    }
}
