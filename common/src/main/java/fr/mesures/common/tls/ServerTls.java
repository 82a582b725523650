package fr.mesures.common.tls;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * A server's TLS setup, made by {@link TlsContexts#server}: the context holding its certificate, and the engines
 * and parameters that apply this project's {@link TlsPolicy} and client-certificate mode to each connection.
 */
public final class ServerTls {

    private final SSLContext context;
    private final ClientAuth clientAuth;
    private final CertifiedKey certifiedKey;
    /**
     * Made once and only read after: an engine copies what it is given, and making them is not cheap (the JDK builds
     * a throwaway socket for its defaults, and the policy filters every suite), which a storm of handshakes felt.
     */
    private final SSLParameters engineParameters;

    ServerTls(SSLContext context, ClientAuth clientAuth, CertifiedKey certifiedKey) {
        this.context = context;
        this.clientAuth = clientAuth;
        this.certifiedKey = certifiedKey;
        this.engineParameters = parameters();
    }

    public SSLContext context() {
        return context;
    }

    public ClientAuth clientAuth() {
        return clientAuth;
    }

    /** The certificate chain presented to clients, for logs and for expiry warnings. */
    public CertifiedKey certifiedKey() {
        return certifiedKey;
    }

    /** A new object on each call (SSLParameters is mutable), for an {@code SSLServerSocket} or an engine. */
    public SSLParameters parameters() {
        SSLParameters parameters = TlsPolicy.parameters(context);
        // setWantClientAuth(false) would clear a "need" set before it: only the mode's own setter is called.
        switch (clientAuth) {
            case REQUIRED -> parameters.setNeedClientAuth(true);
            case OPTIONAL -> parameters.setWantClientAuth(true);
            case NONE -> parameters.setNeedClientAuth(false);
        }
        return parameters;
    }

    /** A server-side engine for one connection. */
    public SSLEngine newEngine() {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        engine.setSSLParameters(engineParameters);
        return engine;
    }
}
