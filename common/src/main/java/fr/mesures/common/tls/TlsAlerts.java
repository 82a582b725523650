package fr.mesures.common.tls;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import javax.net.ssl.SSLEngine;

/**
 * The last words of a failed TLS handshake. When the JDK's engine gives up (a certificate it does not trust, a
 * protocol it does not speak) it has an alert ready that says why, but {@code tls-channel} closes the socket
 * without sending it, and the peer only sees the connection end: OpenSSL prints "unexpected eof", and this
 * project's server would count the failure as {@code closed} instead of {@code certificate}. Both sides send it.
 */
public final class TlsAlerts {

    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

    private TlsAlerts() {
    }

    /** Writes the alert {@code engine} has, if {@code socket} takes it now; best effort, the caller closes anyway. */
    public static void send(SSLEngine engine, WritableByteChannel socket) {
        if (engine == null) {
            return;
        }
        try {
            ByteBuffer alert = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            engine.closeOutbound();
            while (!engine.isOutboundDone() && engine.wrap(NOTHING, alert).bytesProduced() > 0) {
                // one alert record, usually; the loop stops when the engine has nothing more to say
            }
            alert.flip();
            socket.write(alert);
        } catch (IOException | RuntimeException e) {
            // best effort: the connection is closed either way
        }
    }
}
