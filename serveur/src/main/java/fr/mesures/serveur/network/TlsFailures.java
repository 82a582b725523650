package fr.mesures.serveur.network;

import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * Names why a TLS handshake failed, from what the JDK's engine says, for the {@code reason} label of a counter:
 * an operator alerting on failures needs to tell a plaintext client on the TLS port from an old client or a
 * certificate problem. The engine gives no codes, only messages, so the names come from the words it uses.
 */
public final class TlsFailures {

    /** Every reason {@link #reason} and the server give, so that a counter can show each at 0 from the start. */
    public static final List<String> REASONS = List.of("timeout", "closed", "not_tls", "protocol", "certificate",
            "other");

    private TlsFailures() {
    }

    static String reason(Exception e) {
        String message = messages(e);
        if (message.contains("unrecognized ssl message") || message.contains("plaintext connection")
                || message.contains("unsupported or unrecognized") || message.contains("invalid handshake message")
                || message.contains("illegal client handshake") || message.contains("record_overflow")
                || message.contains("record type") || message.contains("not a tls")) {
            return "not_tls";
        }
        if (message.contains("protocol") && (message.contains("not enabled") || message.contains("not supported")
                || message.contains("no appropriate") || message.contains("version"))) {
            return "protocol";
        }
        if (message.contains("cipher") || message.contains("no negotiable")) {
            return "protocol";
        }
        if (message.contains("certificate") || message.contains("pkix") || message.contains("unknown_ca")
                || message.contains("bad_certificate") || message.contains("certpath")) {
            return "certificate";
        }
        if (e instanceof SSLException && (message.contains("closed") || message.contains("close_notify")
                || message.contains("end of stream") || message.contains("eof"))) {
            return "closed";
        }
        return "other";
    }

    private static String messages(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null) {
                all.append(t.getMessage()).append(' ');
            }
        }
        return all.toString().toLowerCase(Locale.ROOT);
    }
}
