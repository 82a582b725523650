package fr.mesures.serveur;

import fr.mesures.protocole.Reply;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A plain blocking TCP client. Tests write the values' bytes themselves, as a third-party client would; replies
 * are read with protocole's {@link Reply#parse}, and every read gives up after {@link #READ_TIMEOUT_MILLIS}, so a
 * server that stops answering fails the test instead of hanging it.
 */
final class TestClient implements AutoCloseable {

    static final int READ_TIMEOUT_MILLIS = 20_000;

    private final Socket socket;
    private final OutputStream out;
    private final BufferedReader in;

    private TestClient(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    static TestClient connect(int port) throws IOException {
        return connect(new Socket(), port);
    }

    /**
     * A client whose receive buffer is asked to be {@code bytes}, for tests of a client that does not read: the
     * size is set before connecting because TCP agrees on its window scale during the handshake.
     */
    static TestClient connectWithReceiveBuffer(int port, int bytes) throws IOException {
        var socket = new Socket();
        socket.setReceiveBufferSize(bytes);
        return connect(socket, port);
    }

    /** A TLS client with these parameters (the host name checked against 127.0.0.1), its handshake done. */
    static TestClient connectTls(int port, SSLContext context, SSLParameters parameters) throws IOException {
        var socket = (SSLSocket) context.getSocketFactory().createSocket();
        socket.setSSLParameters(parameters);
        TestClient client = connect(socket, port);
        socket.startHandshake();
        return client;
    }

    private static TestClient connect(Socket socket, int port) throws IOException {
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(READ_TIMEOUT_MILLIS);
            return new TestClient(socket);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    TestClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.UTF_8));
    }

    TestClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    TestClient requestAcks() throws IOException {
        return send(Reply.ACKS_REQUEST);
    }

    /** The next reply, or null at the end of the stream. */
    Reply next() throws IOException {
        String line = in.readLine();
        return line == null ? null : Reply.parse(line);
    }

    /** Replies up to and including the first ack of at least {@code n}. */
    List<Reply> untilAck(long n) throws IOException {
        var replies = new ArrayList<Reply>();
        Reply reply;
        while ((reply = next()) != null) {
            replies.add(reply);
            if (reply instanceof Reply.Ack ack && ack.count() >= n) {
                return replies;
            }
        }
        throw new IOException("connection ended before ack " + n + "; got " + replies);
    }

    /** The first error line, after any acks. */
    Reply.Error untilError() throws IOException {
        var acks = new ArrayList<Reply>();
        Reply reply;
        while ((reply = next()) != null) {
            if (reply instanceof Reply.Error error) {
                return error;
            }
            acks.add(reply);
        }
        throw new IOException("connection ended before an error line; got " + acks);
    }

    /**
     * Says "done sending" and collects every reply until the server closes. Over TLS, this sends close_notify:
     * TLS 1.3 lets the server answer after it, as TCP's half-close does.
     */
    List<Reply> finish() throws IOException {
        socket.shutdownOutput();
        var replies = new ArrayList<Reply>();
        Reply reply;
        while ((reply = next()) != null) {
            replies.add(reply);
        }
        return replies;
    }

    Socket socket() {
        return socket;
    }

    /** The error lines among replies; acks in between may be coalesced or not, as the protocol allows. */
    static List<Reply> errorsIn(List<Reply> replies) {
        return replies.stream().filter(r -> r instanceof Reply.Error).toList();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
