package fr.mesures.capteur.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for a server that checks tokens, speaking exactly the documented lines: {@code {"auth":"ok"}} for
 * the right token, else, after a pause, an {@code unauthorized} error line and a close; {@code auth_required} for a
 * reading before any token when it requires one; {@code forbidden} (per value, the connection goes on) for a
 * capteur_id the token may not write; {@code revoked} on demand. Every other value is acknowledged at once. It
 * closes the way a careful server does (its side first, then it waits for the client's close), so that an error
 * line is not lost to a reset. Lets the sensor's side be tested down to the bytes before the real server checks
 * tokens, and on demand.
 */
final class AuthPeer implements AutoCloseable {

    private static final Pattern AUTH = Pattern.compile("\\{\"auth\":\"([^\"]*)\"(,\"acks\":true)?}");
    private static final Pattern ID = Pattern.compile("\"capteur_id\":\"([^\"]*)\"");

    final ServerSocket socket;
    /** Every line received, per connection in the order they were accepted. */
    final List<List<String>> connections = new CopyOnWriteArrayList<>();
    /** The readings acknowledged as stored, each line once. */
    final Set<String> stored = ConcurrentHashMap.newKeySet();
    /** How many times a reading line was stored again (a resend of a stored one). */
    final List<String> duplicates = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final String token;
    private final boolean required;
    private final Predicate<String> mayWrite;
    private final long refusalPauseMillis;
    private final Thread acceptor;

    /**
     * @param token    the one token accepted
     * @param required whether a reading without a token is refused
     * @param mayWrite the capteur_ids the token may write
     */
    AuthPeer(String token, boolean required, Predicate<String> mayWrite, long refusalPauseMillis) throws IOException {
        this.token = token;
        this.required = required;
        this.mayWrite = mayWrite;
        this.refusalPauseMillis = refusalPauseMillis;
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::accept, "auth-peer-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void accept() {
        try {
            while (true) {
                Socket s = socket.accept();
                List<String> lines = new CopyOnWriteArrayList<>();
                connections.add(lines);
                open.add(s);
                Thread t = new Thread(() -> serve(s, lines), "auth-peer-" + connections.size());
                t.setDaemon(true);
                t.start();
            }
        } catch (IOException e) {
            // closed by the test
        }
    }

    private void serve(Socket s, List<String> lines) {
        try (s; var in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
            OutputStream out = s.getOutputStream();
            boolean authenticated = false;
            String line;
            while ((line = in.readLine()) != null) {
                lines.add(line);
                int index = lines.size();
                Matcher auth = AUTH.matcher(line);
                if (index == 1 && auth.matches()) {
                    if (!auth.group(1).equals(token)) {
                        pause();
                        refuse(s, in, "{\"error\":\"unknown token\",\"reason\":\"unauthorized\"}\n");
                        return;
                    }
                    authenticated = true;
                    write(out, "{\"auth\":\"ok\"}\n{\"ack\":1}\n");
                    continue;
                }
                Matcher id = ID.matcher(line);
                if (!id.find()) {
                    write(out, "{\"ack\":" + index + "}\n"); // the acks request
                    continue;
                }
                if (!authenticated && required) {
                    refuse(s, in, "{\"error\":\"this server requires a token first\",\"index\":" + index
                            + ",\"reason\":\"auth_required\"}\n");
                    return;
                }
                if (authenticated && !mayWrite.test(id.group(1))) {
                    write(out, "{\"error\":\"this token may not write " + id.group(1) + "\",\"index\":" + index
                            + ",\"reason\":\"forbidden\"}\n{\"ack\":" + index + "}\n");
                    continue;
                }
                if (!stored.add(line)) {
                    duplicates.add(line);
                }
                write(out, "{\"ack\":" + index + "}\n");
            }
        } catch (IOException e) {
            // the sensor closed, or the test revoked the connection
        } finally {
            open.remove(s);
        }
    }

    private void pause() {
        try {
            Thread.sleep(refusalPauseMillis); // the server's fixed pause before a refusal, not a synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static synchronized void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Writes the line, closes our side, and reads what the client still sends until it closes (or 5 s). */
    private static void refuse(Socket s, BufferedReader in, String line) throws IOException {
        write(s.getOutputStream(), line);
        s.shutdownOutput();
        s.setSoTimeout(5000);
        try {
            while (in.readLine() != null) {
                // drained: closing with unread bytes would reset the connection and could lose the line
            }
        } catch (SocketTimeoutException e) {
            // the client keeps it open: close anyway
        }
    }

    /** Every open connection is told its credential is revoked, and closed. */
    void revokeAll() throws IOException {
        for (Socket s : open) {
            write(s.getOutputStream(), "{\"error\":\"the token was revoked\",\"reason\":\"revoked\"}\n");
            s.shutdownOutput();
        }
    }

    /** Every open connection is cut, without a word (a server that died). */
    void dropAll() throws IOException {
        for (Socket s : open) {
            s.close();
        }
    }

    int port() {
        return socket.getLocalPort();
    }

    /** Every connection's lines except the first one (its auth or acks value). */
    List<String> readingLines() {
        return connections.stream().flatMap(c -> c.stream().skip(1)).toList();
    }

    @Override
    public void close() throws Exception {
        socket.close();
        for (Socket s : open) {
            s.close();
        }
        acceptor.join(5000);
    }
}
