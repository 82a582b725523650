package fr.mesures.systemtests.support;

import fr.mesures.protocole.Reading;
import fr.mesures.protocole.Reply;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** A blocking socket that sends exactly the bytes a test gives it, and reads the server's reply lines. */
public final class RawClient implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final BufferedReader in;
    private final List<Reply> replies = new ArrayList<>();

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    public static RawClient connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        socket.setTcpNoDelay(true);
        return new RawClient(socket);
    }

    public RawClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.UTF_8));
    }

    public RawClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Reads replies until one matches, or fails after {@code timeoutMillis} without one; returns them all. */
    public List<Reply> until(Predicate<Reply> wanted, int timeoutMillis) throws IOException {
        socket.setSoTimeout(timeoutMillis);
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            String line;
            try {
                line = in.readLine();
            } catch (SocketTimeoutException e) {
                break;
            }
            if (line == null) {
                throw new IOException("connection closed before the expected reply; got " + replies);
            }
            Reply reply = Reply.parse(line);
            replies.add(reply);
            if (wanted.test(reply)) {
                return List.copyOf(replies);
            }
        }
        throw new IOException("no expected reply within " + timeoutMillis + " ms; got " + replies);
    }

    /**
     * Reply lines exactly as received (without their newline), read with a plain line reader, never parsed, until
     * one matches: for tests about the lines themselves (their length, fields a reply parser would skip).
     */
    public List<String> rawLinesUntil(Predicate<String> wanted, int timeoutMillis) throws IOException {
        socket.setSoTimeout(timeoutMillis);
        List<String> lines = new ArrayList<>();
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            String line;
            try {
                line = in.readLine();
            } catch (SocketTimeoutException e) {
                break;
            }
            if (line == null) {
                throw new IOException("connection closed before the expected line; got " + lines);
            }
            lines.add(line);
            if (wanted.test(line)) {
                return lines;
            }
        }
        throw new IOException("no expected line within " + timeoutMillis + " ms; got " + lines);
    }

    /** Reply lines exactly as received, until the server closes the connection. */
    public List<String> rawLinesUntilClosed(int timeoutMillis) throws IOException {
        socket.setSoTimeout(timeoutMillis);
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
            lines.add(line);
        }
        return lines;
    }

    /** Until {@code {"ack": N}} or later. */
    public List<Reply> untilAck(long n) throws IOException {
        return until(r -> r instanceof Reply.Ack a && a.count() >= n, 60_000);
    }

    /** Every reply until the server closes the connection (after a half-close, an idle timeout...). */
    public List<Reply> untilClosed(int timeoutMillis) throws IOException {
        socket.setSoTimeout(timeoutMillis);
        String line;
        while ((line = in.readLine()) != null) {
            replies.add(Reply.parse(line));
        }
        return List.copyOf(replies);
    }

    public void halfClose() throws IOException {
        socket.shutdownOutput();
    }

    /** SO_LINGER 0 then close: the kernel sends RST, as a crashing client or a broken middlebox does. */
    public void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    public Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** Errors (about a value) among {@code replies}. */
    public static List<Reply.Error> errors(List<Reply> replies) {
        return replies.stream().filter(Reply.Error.class::isInstance).map(Reply.Error.class::cast).toList();
    }

    /** One reading as NDJSON, as the protocol's own {@link Reading#toJson()} writes it. */
    public static String reading(String id, double temperature, long timestamp) {
        return new Reading(id, temperature, timestamp).toJson();
    }
}
