package fr.mesures.common.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A private key with the certificate chain that vouches for it, leaf first: what a TLS peer presents, and what
 * {@link Certificates} makes.
 */
public record CertifiedKey(List<X509Certificate> chain, PrivateKey privateKey) {

    public CertifiedKey {
        chain = List.copyOf(chain);
        Objects.requireNonNull(privateKey, "privateKey");
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a certified key needs at least its own certificate");
        }
    }

    /** The certificate of this key, the first of the chain. */
    public X509Certificate leaf() {
        return chain.get(0);
    }

    public Validity validity() {
        return Validity.of(leaf());
    }
}
