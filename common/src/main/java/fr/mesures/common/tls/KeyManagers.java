package fr.mesures.common.tls;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * Turns what was read from PEM files into the JDK's key and trust managers, through in-memory key stores that
 * exist only because the JSSE API asks for them.
 */
final class KeyManagers {

    private static final char[] NO_PASSWORD = new char[0];

    private KeyManagers() {
    }

    static KeyManager[] presenting(CertifiedKey own) {
        try {
            KeyStore store = emptyStore();
            store.setKeyEntry("own", own.privateKey(), NO_PASSWORD, own.chain().toArray(new Certificate[0]));
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, NO_PASSWORD);
            return factory.getKeyManagers();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot hold the key of " + own.leaf().getSubjectX500Principal(), e);
        }
    }

    static TrustManager[] trusting(List<X509Certificate> authorities) {
        try {
            KeyStore store = emptyStore();
            for (int i = 0; i < authorities.size(); i++) {
                store.setCertificateEntry("ca-" + i, authorities.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return factory.getTrustManagers();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot build a trust manager", e);
        }
    }

    private static KeyStore emptyStore() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new IllegalStateException("an empty in-memory key store cannot fail to load", e);
        }
        return store;
    }
}
