package fr.mesures.serveur.reload;

import fr.mesures.protocole.Durations;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A value made from files and kept current by a {@link Reloader}: {@link #get()} is one volatile read, cheap
 * enough for the selector thread to call per connection. When the files change, the value is made again; until a
 * new one loads, the last good one stays. {@link #version()} counts the values loaded (1 for the first), for a
 * reader that wants to notice a change by comparing numbers, and {@link #onChange} is told of each new value.
 *
 * <p>Files that cannot be loaded are refused quietly the first time a poll sees them changed, since a renewal
 * may have replaced one file and not yet the next (a certificate before its key); if a poll finds them the same
 * and still refused, one WARN line names the file and the problem, and {@link #failures()} counts one. Refused
 * files are tried again at each poll, silently, so that a fix, or a certificate reaching its start date, is taken.
 *
 * @param <T> what the files make
 */
public final class Watched<T> implements Supplier<T> {

    private static final Logger log = LoggerFactory.getLogger(Reloader.class);

    private final String what;
    private final List<Path> files;
    private final Loader<T> loader;
    private final Duration period;
    private final List<Consumer<? super T>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong failures = new AtomicLong();
    private volatile T value;
    // True from a refusal's WARN line until the files load or are back to the ones in use.
    private volatile boolean refusing;
    // Written under the reloader's poll lock only: a volatile write is all the readers need.
    private volatile long version;

    // The reloader's poll lock guards these.
    private List<FileStamp> loaded;
    private List<FileStamp> previous;
    private List<FileStamp> reported;
    private Instant loadedAt;

    /** Loads the value now: the caller learns at once that the files cannot be used. */
    Watched(String what, List<Path> files, Loader<T> loader, Duration period) throws IOException {
        this.what = Objects.requireNonNull(what, "what");
        this.files = List.copyOf(files);
        this.loader = Objects.requireNonNull(loader, "loader");
        this.period = period;
        if (this.files.isEmpty()) {
            throw new IllegalArgumentException(what + ": nothing to watch without a file");
        }
        // Looked at before reading: a change made while reading is seen by the next poll, never missed.
        List<FileStamp> stamps = FileStamp.of(this.files);
        this.value = Objects.requireNonNull(loader.load(), what + ": the loader made nothing");
        this.version = 1;
        this.loaded = stamps;
        this.previous = stamps;
        this.loadedAt = Instant.now();
    }

    /** The value last loaded. */
    @Override
    public T get() {
        return value;
    }

    /** How many values were loaded: 1 after the first, one more per reload. */
    public long version() {
        return version;
    }

    /**
     * Calls {@code listener} with each new value from now on, on the reload thread, after {@link #get()} returns
     * it. It must be quick and must not block (hand work to the selector thread, for example): every watched file
     * waits for it. A listener that throws is logged and the others are still called.
     */
    public void onChange(Consumer<? super T> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** The name given to {@link Reloader#watch}: the {@code what} label of the metrics and the first word of logs. */
    public String what() {
        return what;
    }

    public List<Path> files() {
        return files;
    }

    /** Reloads refused and logged at WARN. */
    public long failures() {
        return failures.get();
    }

    /**
     * True while the files on disk are refused (since the WARN line about them) and the previous value is served:
     * unlike {@link #failures()}, it stays true for as long as nobody fixes them, and false once they load.
     */
    public boolean refusing() {
        return refusing;
    }

    /** One poll: reloads if the files changed. Under the reloader's poll lock. */
    void check() {
        List<FileStamp> now = FileStamp.of(files);
        boolean settled = now.equals(previous);
        previous = now;
        if (now.equals(loaded)) {
            reported = null; // back to the files in use, if they ever left
            refusing = false;
            return;
        }
        T next;
        try {
            next = Objects.requireNonNull(loader.load(), "the loader made nothing");
        } catch (IOException | RuntimeException e) {
            refused(now, settled, e);
            return;
        }
        loaded = now;
        reported = null;
        refusing = false;
        loadedAt = Instant.now();
        value = next;
        version = version + 1;
        log.info("{} reloaded from {} (version {})", what, names(), version);
        for (Consumer<? super T> listener : listeners) {
            try {
                listener.accept(next);
            } catch (RuntimeException e) {
                log.warn("{}: a listener of its reload failed", what, e);
            }
        }
    }

    private void refused(List<FileStamp> now, boolean settled, Exception e) {
        if (now.equals(reported)) {
            return;
        }
        if (!settled) {
            log.info("{} not reloaded yet: {}; the files changed since the last look, perhaps not all of them yet:"
                    + " looking again in {}", what, problem(e), Durations.format(period));
            return;
        }
        reported = now;
        refusing = true;
        failures.incrementAndGet();
        log.warn("{} not reloaded: {}; still using the one loaded at {}", what, problem(e), loadedAt);
    }

    /** The exception's message, with the files' names in front unless it names one of them already. */
    private String problem(Exception e) {
        String message;
        if (e instanceof NoSuchFileException missing) {
            message = missing.getFile() + ": no such file";
        } else if (e instanceof FileSystemException system && system.getReason() == null) {
            message = system.getFile() + ": " + e.getClass().getSimpleName(); // AccessDeniedException...
        } else {
            message = e instanceof IOException && e.getMessage() != null ? e.getMessage() : e.toString();
        }
        boolean namesAFile = files.stream().anyMatch(f -> message.contains(String.valueOf(f.getFileName())));
        return namesAFile ? message : names() + ": " + message;
    }

    private String names() {
        return files.stream().map(Path::toString).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return what + " (" + names() + ", version " + version + ")";
    }
}
