package fr.mesures.common.tls;

import java.util.Arrays;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The protocol versions and cipher suites both sides allow: TLS 1.3 and 1.2, and of the JDK's default suites only
 * those with forward secrecy and an AEAD cipher (GCM or ChaCha20-Poly1305), close to Mozilla's "intermediate"
 * profile. CBC-mode suites are dropped as well: every client able to speak TLS 1.2 today also offers an AEAD suite,
 * and CBC's MAC-then-encrypt is where the padding-oracle attacks (Lucky 13 and kin) live. Static-RSA key exchange
 * is dropped because a stolen server key would decrypt every recorded session.
 */
public final class TlsPolicy {

    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    // Never in the JDK's defaults today; refused by name as well so that a future default cannot bring one back.
    private static final Pattern WEAK = Pattern.compile("NULL|anon|EXPORT|_DES|3DES|RC4|MD5");

    // Not a cipher suite: the client's signal for secure renegotiation (RFC 5746), kept as the JDK sends it.
    private static final String RENEGOTIATION_SIGNAL = "TLS_EMPTY_RENEGOTIATION_INFO_SCSV";

    private TlsPolicy() {
    }

    /** The suites of {@code candidates} this policy allows, in their order. */
    public static String[] cipherSuites(String[] candidates) {
        return Arrays.stream(candidates).filter(TlsPolicy::allowed).toArray(String[]::new);
    }

    static boolean allowed(String suite) {
        if (suite.equals(RENEGOTIATION_SIGNAL)) {
            return true;
        }
        if (WEAK.matcher(suite).find()) {
            return false;
        }
        if (suite.startsWith("TLS_AES_") || suite.startsWith("TLS_CHACHA20_")) {
            return true; // TLS 1.3: every suite is AEAD, and the key exchange always has forward secrecy
        }
        boolean forwardSecret = suite.startsWith("TLS_ECDHE_") || suite.startsWith("TLS_DHE_");
        boolean aead = suite.contains("_GCM_") || suite.contains("_CHACHA20_POLY1305_");
        return forwardSecret && aead;
    }

    /** The context's defaults narrowed to this policy; a fresh object the caller may complete. */
    static SSLParameters parameters(SSLContext context) {
        SSLParameters parameters = context.getDefaultSSLParameters();
        parameters.setProtocols(PROTOCOLS.clone());
        parameters.setCipherSuites(cipherSuites(parameters.getCipherSuites()));
        return parameters;
    }
}
