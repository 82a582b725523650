package fr.mesures.serveur.storage;

import fr.mesures.protocole.CapteurIds;
import fr.mesures.protocole.ReadingDecoder;
import fr.mesures.protocole.ReadingRules;
import fr.mesures.protocole.RejectReason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exercise's text file ({@code donnees.txt}): one JSON object per line,
 * {@code {"capteur_id":"capteur_1","temperature":23.5,"timestamp":"2025-11-24T12:00:00.123Z","received_at":"..."}}.
 * Each write is appended and fsynced before it returns, so acknowledged lines survive a crash or a power cut.
 *
 * <p>A text file has no index, so a resent reading is recognised by the keys of the most recent readings, kept in
 * memory ({@link RecentKeys}) and rebuilt from the end of the file at start-up. A line cut short by a crash
 * (never acknowledged, since the fsync had not returned) is removed at start-up.
 *
 * <p>Thread safety: only the pipeline's writer thread calls {@link #write}.
 */
public final class FileStore implements MesureStore {

    private static final Logger log = LoggerFactory.getLogger(FileStore.class);

    /** Bytes read back from the end of the file at start, per key to remember (two generations of long lines). */
    private static final long TAIL_BYTES_PER_KEY = 256;
    private static final int MAX_LINE = 64 + CapteurIds.MAX_LENGTH + 2 * UtcMillis.LENGTH + 32;

    private final Path path;
    private final FileChannel channel;
    private final RecentKeys recent;
    private final long tailBytes;
    // Two formatters, each caching its own minute: measurement times and receive times may be far apart.
    private final UtcMillis times = new UtcMillis();
    private final UtcMillis receivedTimes = new UtcMillis();
    private final byte[] receivedAt = new byte[UtcMillis.LENGTH];
    private byte[] buffer = new byte[1 << 16];

    private FileStore(Path path, FileChannel channel, int rememberedKeys) {
        this.path = path;
        this.channel = channel;
        this.recent = new RecentKeys(rememberedKeys);
        this.tailBytes = TAIL_BYTES_PER_KEY * rememberedKeys;
    }

    /**
     * Opens (or creates) the file.
     *
     * @param rememberedKeys how many of the latest readings to recognise when resent: at least as many as the
     *                       server may hold unacknowledged
     */
    public static FileStore open(Path path, int rememberedKeys) throws StoreException {
        try {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileStore store = new FileStore(path, channel, rememberedKeys);
            store.cutTornLine();
            store.rememberTail();
            return store;
        } catch (IOException e) {
            throw new StoreException("cannot open " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public int write(List<ReadingBlock> blocks) throws StoreException {
        int length = 0;
        int written = 0;
        for (ReadingBlock block : blocks) {
            // One receive time per block: formatted once, copied into each line.
            receivedTimes.write(block.receivedAt(), receivedAt, 0);
            for (int i = 0; i < block.size(); i++) {
                if (!recent.add(block.capteurId(i), block.timestamp(i))) {
                    continue;
                }
                if (length + MAX_LINE > buffer.length) {
                    buffer = Arrays.copyOf(buffer, buffer.length * 2);
                }
                length = line(block, i, length);
                written++;
            }
        }
        long end;
        try {
            end = channel.size();
        } catch (IOException e) {
            recoverAfterFailure(-1);
            throw new StoreException("cannot write " + path + ": " + e.getMessage(), e);
        }
        try {
            ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, length);
            long position = end;
            while (bytes.hasRemaining()) {
                position += channel.write(bytes, position);
            }
            channel.force(false);
            return written;
        } catch (IOException e) {
            recoverAfterFailure(end);
            throw new StoreException("cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    private static final byte[] OPEN = ascii("{\"capteur_id\":\"");
    private static final byte[] TEMPERATURE = ascii("\",\"temperature\":");
    private static final byte[] TIMESTAMP = ascii(",\"timestamp\":\"");
    private static final byte[] RECEIVED_AT = ascii("\",\"received_at\":\"");
    private static final byte[] CLOSE = ascii("\"}\n");

    private int line(ReadingBlock block, int i, int at) {
        byte[] out = buffer;
        int p = put(OPEN, out, at);
        p = ascii(block.capteurId(i), out, p);
        p = put(TEMPERATURE, out, p);
        p = ascii(Double.toString(block.temperature(i)), out, p);
        p = put(TIMESTAMP, out, p);
        p = times.write(block.timestamp(i), out, p);
        p = put(RECEIVED_AT, out, p);
        p = put(receivedAt, out, p);
        return put(CLOSE, out, p);
    }

    private static int put(byte[] bytes, byte[] out, int at) {
        System.arraycopy(bytes, 0, out, at, bytes.length);
        return at + bytes.length;
    }

    /** Identifiers and numbers are ASCII by the protocol's rules, so chars are bytes. */
    @SuppressWarnings("deprecation")
    private static int ascii(String text, byte[] out, int at) {
        int n = text.length();
        text.getBytes(0, n, out, at);
        return at + n;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /**
     * A failed write may have left part of its lines in the file and its keys in memory: put the file back to
     * where it ended and rebuild the keys from it, so that the retry writes every line exactly once.
     */
    private void recoverAfterFailure(long end) {
        try {
            if (end >= 0 && channel.size() > end) {
                channel.truncate(end);
            }
            recent.clear();
            rememberTail();
        } catch (IOException e) {
            log.warn("could not restore {} after a failed write: {}", path, e.getMessage());
        }
    }

    private void cutTornLine() throws IOException {
        long size = channel.size();
        if (size == 0) {
            return;
        }
        long keep = size;
        ByteBuffer one = ByteBuffer.allocate(8192);
        while (keep > 0) {
            int chunk = (int) Math.min(one.capacity(), keep);
            one.clear().limit(chunk);
            channel.read(one, keep - chunk);
            int i = chunk - 1;
            while (i >= 0 && one.get(i) != '\n') {
                i--;
            }
            if (i >= 0) {
                keep = keep - chunk + i + 1;
                break;
            }
            keep -= chunk;
        }
        if (keep < size) {
            log.warn("{} ended with an incomplete line (never acknowledged); removing its {} bytes", path,
                    size - keep);
            channel.truncate(keep);
            channel.force(false);
        }
    }

    private void rememberTail() throws IOException {
        long size = channel.size();
        long from = Math.max(0, size - tailBytes);
        ByteBuffer tail = ByteBuffer.allocate((int) (size - from));
        while (tail.hasRemaining()) {
            if (channel.read(tail, from + tail.position()) < 0) {
                break;
            }
        }
        byte[] bytes = tail.array();
        int start = 0;
        if (from > 0) {
            while (start < bytes.length && bytes[start] != '\n') {
                start++;
            }
            start++;
        }
        var decoder = new ReadingDecoder(ReadingRules.DEFAULT);
        var sink = new ReadingDecoder.Sink() {
            @Override
            public void reading(String capteurId, double temperature, long timestamp) {
                recent.add(capteurId, timestamp);
            }

            @Override
            public void rejected(int element, RejectReason reason, String message) {
                // A line edited by hand or written by something else: it cannot be a resend of ours.
            }
        };
        int remembered = 0;
        for (int i = start; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                if (i > start) {
                    decoder.decode(bytes, start, i - start, sink);
                    remembered++;
                }
                start = i + 1;
            }
        }
        if (remembered > 0) {
            log.info("{}: remembered the keys of its last {} lines to recognise resent readings", path, remembered);
        }
    }

    @Override
    public String describe() {
        return "file:" + path;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            log.warn("closing {} failed: {}", path, e.getMessage());
        }
    }
}
