package fr.mesures.common.tls;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * A client's TLS setup, made by {@link TlsContexts#client}: the context holding the trusted authorities (and the
 * client's own certificate, if any), and the engines and parameters that check the server's name.
 */
public final class ClientTls {

    private final SSLContext context;
    private final boolean insecure;

    ClientTls(SSLContext context, boolean insecure) {
        this.context = context;
        this.insecure = insecure;
    }

    public SSLContext context() {
        return context;
    }

    /** True when no certificate and no host name is checked: encryption without knowing who is at the other end. */
    public boolean insecure() {
        return insecure;
    }

    /**
     * A new object on each call. Unless insecure, it checks the server's certificate names the host connected to
     * ("HTTPS" identification, RFC 2818); an {@code SSLSocket} must then be made with that host name.
     */
    public SSLParameters parameters() {
        SSLParameters parameters = TlsPolicy.parameters(context);
        if (!insecure) {
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
        }
        return parameters;
    }

    /** A client-side engine for a connection to {@code host}, the name checked and sent as SNI. */
    public SSLEngine newEngine(String host, int port) {
        SSLEngine engine = context.createSSLEngine(host, port);
        engine.setUseClientMode(true);
        engine.setSSLParameters(parameters());
        return engine;
    }
}
