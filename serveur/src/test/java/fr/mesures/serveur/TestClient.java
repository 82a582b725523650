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

/** A plain blocking TCP client speaking the protocol by hand, as a third-party client would. */
final class TestClient implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final BufferedReader in;

    private TestClient(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    static TestClient connect(int port) throws IOException {
        var socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(20_000);
        return new TestClient(socket);
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

    /** Says "done sending" and collects every reply until the server closes. */
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

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
