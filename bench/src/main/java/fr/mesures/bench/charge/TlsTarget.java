package fr.mesures.bench.charge;

import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.TlsContexts;
import fr.mesures.common.tls.TlsFileException;
import java.nio.file.Path;
import java.util.Objects;
import javax.net.ssl.SSLEngine;

/**
 * Where the load generator's TLS connections go and whom they trust: a sensor's client setup (the benchmark's
 * authority alone, the server's certificate and host name checked), and a fresh engine for each connection.
 *
 * <p>Every connection makes a full handshake, as a sensor does on its first connection and every sensor does after
 * a server restart (the new process knows none of the old sessions): each engine has its own key in the JDK's
 * client session cache. With one key for all, the JDK would resume the first connection's session on every other
 * one, and the figures would be those of resumed handshakes, which skip the certificate and its signature.
 *
 * @param tls        the client setup (its SSL context and policy)
 * @param serverName the name checked against the server's certificate and sent as SNI, as given on the command
 *                   line (a host name or an IP address)
 */
public record TlsTarget(ClientTls tls, String serverName) {

    public TlsTarget {
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(serverName, "serverName");
    }

    /** Trusts the authorities of {@code caFile} (PEM) alone. */
    public static TlsTarget trusting(Path caFile, String serverName) throws TlsFileException {
        return new TlsTarget(TlsContexts.client(caFile, null, null, false), serverName);
    }

    /** The client engine of connection {@code index}. */
    public SSLEngine newEngine(int index) {
        // The port given to the engine is only its key in the session cache (the engine never connects anywhere):
        // one per connection, so that no connection resumes another's session.
        return tls.newEngine(serverName, 1 + index % 65_535);
    }
}
