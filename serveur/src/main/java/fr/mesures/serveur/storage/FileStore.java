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
 * <p>A text file has no index, so a resent reading is recognised by the keys of the most recent readings and their
 * temperatures, kept in memory ({@link RecentKeys}) and rebuilt from the end of the file at start-up: a key
 * remembered with the same temperature is a duplicate, with another one a conflict, and neither is written again.
 * A line cut short by a crash (never acknowledged, since the fsync had not returned) is removed at start-up.
 *
 * <p>After a failed write nothing past the last synced end is trusted, neither in the file nor in memory: the next
 * write first truncates the file back to it, syncs, and rebuilds the keys from the file, and fails while it cannot.
 * This store assumes it is the file's only writer.
 *
 * <p>Thread safety: only the pipeline's writer thread calls {@link #write}.
 */
public final class FileStore implements MesureStore {

    private static final Logger log = LoggerFactory.getLogger(FileStore.class);

    /** Bytes read back from the end of the file at start, per key to remember (two generations of long lines). */
    private static final long TAIL_BYTES_PER_KEY = 256;
    private static final int TAIL_CHUNK = 64 * 1024;
    private static final int MAX_LINE = 64 + CapteurIds.MAX_LENGTH + 2 * UtcMillis.LENGTH + 32;

    /** Opens the file's channel: a seam for tests that make the disk fail. */
    interface ChannelOpener {
        FileChannel open(Path path) throws IOException;
    }

    private final Path path;
    private final FileChannel channel;
    private final RecentKeys recent;
    private final long tailBytes;
    // Two formatters, each caching its own minute: measurement times and receive times may be far apart.
    private final UtcMillis times = new UtcMillis();
    private final UtcMillis receivedTimes = new UtcMillis();
    private final byte[] receivedAt = new byte[UtcMillis.LENGTH];
    private byte[] buffer = new byte[1 << 16];
    // Where the file ends as far as an fsync that returned says; what lies past it is not known to be on disk.
    private long syncedEnd;
    // A write failed (or is under way): the file past syncedEnd and the remembered keys cannot be trusted.
    private boolean dirty;

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
     *                       server may hold unacknowledged; each takes 64 bytes of heap ({@code RecentKeys})
     */
    public static FileStore open(Path path, int rememberedKeys) throws StoreException {
        return open(path, rememberedKeys, p -> FileChannel.open(p, StandardOpenOption.CREATE,
                StandardOpenOption.READ, StandardOpenOption.WRITE));
    }

    static FileStore open(Path path, int rememberedKeys, ChannelOpener opener) throws StoreException {
        FileChannel channel;
        try {
            channel = opener.open(path);
        } catch (IOException e) {
            throw new StoreException("cannot open " + path + ": " + e.getMessage(), e);
        }
        try {
            FileStore store = new FileStore(path, channel, rememberedKeys);
            store.cutTornLine();
            // What an earlier process wrote may still be only in the page cache: make it the synced start.
            channel.force(false);
            store.syncedEnd = channel.size();
            store.rememberTail();
            return store;
        } catch (IOException e) {
            try {
                channel.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new StoreException("cannot open " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public int write(List<ReadingBlock> blocks) throws StoreException {
        boolean done = false;
        try {
            if (dirty) {
                restore();
            }
            // Until the fsync below returns, whatever this call adds to the file and to the keys is not stored.
            dirty = true;
            int stored = append(blocks);
            dirty = false;
            done = true;
            return stored;
        } finally {
            if (!done) {
                // No row of a failed call may read as stored, whoever looks.
                for (ReadingBlock block : blocks) {
                    block.resetOutcomes();
                }
            }
        }
    }

    private int append(List<ReadingBlock> blocks) throws StoreException {
        int length = 0;
        int stored = 0;
        for (ReadingBlock block : blocks) {
            // One receive time per block: formatted once, copied into each line.
            receivedTimes.write(block.receivedAt(), receivedAt, 0);
            for (int i = 0; i < block.size(); i++) {
                double temperature = block.temperature(i);
                if (!recent.add(block.capteurId(i), block.timestamp(i), temperature)) {
                    if (Double.compare(recent.found(), temperature) == 0) {
                        block.outcome(i, ReadingBlock.Outcome.DUPLICATE);
                    } else {
                        block.conflict(i, recent.found());
                    }
                    continue;
                }
                if (length + MAX_LINE > buffer.length) {
                    buffer = Arrays.copyOf(buffer, buffer.length * 2);
                }
                length = line(block, i, length);
                block.outcome(i, ReadingBlock.Outcome.STORED);
                stored++;
            }
        }
        try {
            ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, length);
            long position = syncedEnd;
            while (bytes.hasRemaining()) {
                position += channel.write(bytes, position);
            }
            // After a failed force the kernel may have dropped the pages it could not write while the file size
            // still counts them: only a force that returns makes these lines part of the file.
            channel.force(false);
            syncedEnd = position;
            return stored;
        } catch (IOException e) {
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
     * Puts the store back to its last known-good state after a failed write: the file cut back to where the last
     * fsync that returned left it (rewriting lines is safe, trusting unsynced ones is not), synced, and the keys
     * rebuilt from it, so that nothing of the failed write counts as stored and the retry writes it whole.
     */
    private void restore() throws StoreException {
        try {
            channel.truncate(syncedEnd);
            channel.force(false);
            recent.clear();
            rememberTail();
        } catch (IOException e) {
            throw new StoreException("cannot write " + path + ": cannot restore it after a failed write: "
                    + e.getMessage(), e);
        }
        dirty = false;
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

    /**
     * Remembers the keys of the file's last lines, read in chunks so that the memory it takes does not grow with the
     * number of keys remembered (which can be a few hundred thousand: 256 bytes each would be tens of megabytes).
     */
    private void rememberTail() throws IOException {
        long from = Math.max(0, syncedEnd - tailBytes);
        // Lines are decoded with only the protocol's rules: whatever this or an earlier server accepted.
        var decoder = new ReadingDecoder(ReadingRules.ANY);
        var sink = new ReadingDecoder.Sink() {
            @Override
            public void reading(String capteurId, double temperature, long timestamp) {
                recent.add(capteurId, timestamp, temperature);
            }

            @Override
            public void rejected(int element, RejectReason reason, String message) {
                // A line edited by hand or written by something else: it cannot be a resend of ours.
            }
        };
        byte[] chunk = new byte[TAIL_CHUNK];
        int kept = 0;
        boolean skipFirst = from > 0;
        int remembered = 0;
        long position = from;
        while (position < syncedEnd) {
            ByteBuffer into = ByteBuffer.wrap(chunk, kept, (int) Math.min(chunk.length - kept, syncedEnd - position));
            int read = channel.read(into, position);
            if (read < 0) {
                break;
            }
            position += read;
            int end = kept + read;
            int start = 0;
            for (int i = 0; i < end; i++) {
                if (chunk[i] == '\n') {
                    // The first line of the tail may be the end of one cut by where the tail starts.
                    if (skipFirst) {
                        skipFirst = false;
                    } else if (i > start) {
                        decoder.decode(chunk, start, i - start, sink);
                        remembered++;
                    }
                    start = i + 1;
                }
            }
            kept = end - start;
            if (kept == chunk.length) {
                // No line is this long; whatever it is cannot be a reading of ours.
                kept = 0;
            } else {
                System.arraycopy(chunk, start, chunk, 0, kept);
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
            if (dirty) {
                // Lines of a failed write were never acknowledged and may not be whole on disk: leave them out.
                channel.truncate(syncedEnd);
                channel.force(false);
            }
        } catch (IOException e) {
            log.warn("could not remove the lines of a failed write from {}: {}", path, e.getMessage());
        }
        try {
            channel.close();
        } catch (IOException e) {
            log.warn("closing {} failed: {}", path, e.getMessage());
        }
    }
}
