package fr.mesures.common.tls;

import fr.mesures.common.tls.TlsFileException.Problem;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Objects;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the TLS setups of the server and of the sensor from PEM files. A certificate of one's own that is expired
 * or not yet valid is refused here, at start or at reload, with a message naming the file: every peer would refuse
 * it anyway, and an operator learns far more from that message than from a stream of failed handshakes.
 */
public final class TlsContexts {

    private static final Logger LOG = LoggerFactory.getLogger(TlsContexts.class);

    private TlsContexts() {
    }

    /**
     * @param clientCaFile the authorities client certificates must come from; required when {@code clientAuth} is
     *                     not {@code NONE}, refused when it is (it would never be used)
     */
    public static ServerTls server(Path certificateFile, Path keyFile, Path clientCaFile, ClientAuth clientAuth)
            throws TlsFileException {
        Objects.requireNonNull(certificateFile, "certificateFile");
        Objects.requireNonNull(keyFile, "keyFile");
        Objects.requireNonNull(clientAuth, "clientAuth");
        if (clientAuth != ClientAuth.NONE && clientCaFile == null) {
            throw new IllegalArgumentException("client authentication '" + clientAuth
                    + "' needs a client CA file to check client certificates against");
        }
        if (clientAuth == ClientAuth.NONE && clientCaFile != null) {
            throw new IllegalArgumentException("a client CA file is given but client authentication is 'none':"
                    + " no client certificate would ever be asked for; choose 'optional' or 'required'");
        }
        CertifiedKey own = PemFiles.readCertifiedKey(certificateFile, keyFile);
        requireCurrent(certificateFile, own.leaf());
        TrustManager[] trust = clientCaFile == null ? null : KeyManagers.trusting(PemFiles.readCertificates(clientCaFile));
        return new ServerTls(context(KeyManagers.presenting(own), trust), clientAuth, own);
    }

    /**
     * @param caFile          the authorities the server's certificate must come from; null for the JVM's trust store
     * @param certificateFile the client's own certificate for mutual TLS, with {@code keyFile}; both or neither
     * @param insecure        no certificate and no host name checked (tests only); {@code caFile} is then unused
     */
    public static ClientTls client(Path caFile, Path certificateFile, Path keyFile, boolean insecure)
            throws TlsFileException {
        if ((certificateFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("a client certificate needs its key and a key its certificate;"
                    + " give both files or neither");
        }
        KeyManager[] keys = null;
        if (certificateFile != null) {
            CertifiedKey own = PemFiles.readCertifiedKey(certificateFile, keyFile);
            requireCurrent(certificateFile, own.leaf());
            keys = KeyManagers.presenting(own);
        }
        TrustManager[] trust;
        if (insecure) {
            LOG.warn("TLS without any certificate or host name check (insecure mode): anyone on the path can"
                    + " pose as the server and read or change every reading. For tests only.");
            trust = new TrustManager[] {new TrustAnything()};
        } else {
            trust = caFile == null ? null : KeyManagers.trusting(PemFiles.readCertificates(caFile));
        }
        return new ClientTls(context(keys, trust), insecure);
    }

    private static void requireCurrent(Path file, X509Certificate leaf) throws TlsFileException {
        Validity validity = Validity.of(leaf);
        Instant now = Instant.now();
        if (now.isAfter(validity.notAfter())) {
            throw new TlsFileException(file, Problem.EXPIRED, "the certificate " + leaf.getSubjectX500Principal()
                    + " expired at " + validity.notAfter() + " (now " + now + "); renew it");
        }
        if (now.isBefore(validity.notBefore())) {
            throw new TlsFileException(file, Problem.NOT_YET_VALID, "the certificate "
                    + leaf.getSubjectX500Principal() + " is valid only from " + validity.notBefore() + " (now " + now
                    + "); is this machine's clock right?");
        }
    }

    private static SSLContext context(KeyManager[] keys, TrustManager[] trust) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, trust, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM offers no TLS", e);
        }
    }
}
