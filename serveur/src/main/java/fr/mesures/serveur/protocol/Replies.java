package fr.mesures.serveur.protocol;

import fr.mesures.protocole.ConnectionReason;
import fr.mesures.protocole.Reply;
import fr.mesures.serveur.memory.Footprint;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * What the server still has to tell one client: the latest acknowledgement, the error lines not yet sent, and a
 * notice before closing. Bounded whatever the client does: acks coalesce into one number, and error lines past
 * {@link #MAX_ERROR_LINES} (or past what the connection may hold, which the caller decides) are counted instead of
 * kept; {@link #footprint()} says what the kept ones cost.
 *
 * <p>Replies are held until the client asks for them ({@code {"acks": true}}) or has finished sending: see
 * docs/protocol.md for why. Owned by the selector thread, like the connection it belongs to.
 */
public final class Replies {

    public static final int MAX_ERROR_LINES = 16;

    private static final byte[] AUTH_OK = Reply.AuthOk.LINE.getBytes(StandardCharsets.UTF_8);

    private boolean live;
    private boolean authAccepted;
    private long handled;
    private long ackSent;
    private ArrayDeque<byte[]> errors;
    private long dropped;
    private byte[] notice;
    private long footprint;

    /** A reply as the bytes of its line. */
    public static byte[] line(Reply reply) {
        return reply.toJson().getBytes(StandardCharsets.UTF_8);
    }

    /** The client asked for replies as they happen (or, with false, only once it has finished sending). */
    public void live(boolean on) {
        live = on;
    }

    /**
     * The client's token was accepted: {@code {"auth":"ok"}} goes out first, whether or not the client asked for
     * replies (it asked a question by sending its token).
     */
    public void authAccepted() {
        authAccepted = true;
    }

    /** Values up to {@code index} are handled (stored or rejected). */
    public void handled(long index) {
        handled = Math.max(handled, index);
    }

    public long handled() {
        return handled;
    }

    /**
     * Queues an error line.
     *
     * @return false when it was not kept, because {@link #MAX_ERROR_LINES} are already waiting: it is counted
     *         as dropped instead
     */
    public boolean error(byte[] line) {
        if (errors == null) {
            errors = new ArrayDeque<>(4);
        }
        if (errors.size() >= MAX_ERROR_LINES) {
            dropped++;
            return false;
        }
        errors.add(line);
        footprint += Footprint.line(line.length);
        return true;
    }

    /** True when {@link #MAX_ERROR_LINES} are waiting: another would be dropped. */
    public boolean errorsFull() {
        return errors != null && errors.size() >= MAX_ERROR_LINES;
    }

    /** {@code lines} error lines were left out; the client is told how many. */
    public void dropped(long lines) {
        dropped += lines;
    }

    /** A last line about the connection itself, sent after everything else. */
    public void notice(ConnectionReason reason, String message) {
        if (notice != null) {
            footprint -= Footprint.line(notice.length);
        }
        notice = line(Reply.Error.ofConnection(reason, message));
        footprint += Footprint.line(notice.length);
    }

    /** Heap taken by the lines waiting: what this connection holds in replies. */
    public long footprint() {
        return footprint;
    }

    /**
     * Moves as many complete lines as fit into {@code out}: the answer to a token, error lines in order, then the
     * count of dropped ones, then the latest ack, then the notice.
     *
     * @param release true when replies must go out even though the client did not ask for them as they happen
     */
    public void fill(ByteBuffer out, boolean release) {
        if (authAccepted) {
            if (!put(out, AUTH_OK)) {
                return;
            }
            authAccepted = false;
        }
        if (!live && !release) {
            return;
        }
        while (errors != null && !errors.isEmpty()) {
            if (!put(out, errors.peek())) {
                return;
            }
            footprint -= Footprint.line(errors.poll().length);
        }
        if (dropped > 0) {
            String message = dropped + " error lines were left out: the client was not reading them, or one value"
                    + " had more errors than are reported one by one";
            if (!put(out, line(Reply.Error.dropped(dropped, message)))) {
                return;
            }
            dropped = 0;
        }
        if (handled > ackSent) {
            if (!put(out, line(new Reply.Ack(handled)))) {
                return;
            }
            ackSent = handled;
        }
        if (notice != null && put(out, notice)) {
            footprint -= Footprint.line(notice.length);
            notice = null;
        }
    }

    private static boolean put(ByteBuffer out, byte[] line) {
        if (out.remaining() < line.length) {
            return false;
        }
        out.put(line);
        return true;
    }
}
