package fr.mesures.common.tls;

import static org.assertj.core.api.Assertions.assertThat;

import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

class TlsPolicyTest {

    @Test
    void keepsForwardSecretAeadSuitesAndDropsTheRest() {
        String[] kept = TlsPolicy.cipherSuites(new String[] {
            "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
            "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDH_anon_WITH_AES_128_GCM_SHA256", "SSL_RSA_WITH_RC4_128_MD5",
            "TLS_ECDHE_RSA_WITH_NULL_SHA", "SSL_RSA_EXPORT_WITH_DES40_CBC_SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"});

        assertThat(kept).containsExactly("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
    }

    @Test
    void leavesEnoughOfThisJvmsDefaultsForBothProtocols() throws Exception {
        String[] kept = TlsPolicy.cipherSuites(SSLContext.getDefault().getDefaultSSLParameters().getCipherSuites());

        assertThat(kept).contains("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    }
}
