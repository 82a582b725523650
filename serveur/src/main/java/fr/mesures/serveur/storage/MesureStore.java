package fr.mesures.serveur.storage;

import java.util.List;
import java.util.function.Consumer;

/**
 * Where readings end up. One thread writes (the pipeline's writer); {@link #write} returns only once the readings
 * are durable, which is what allows the server to acknowledge them.
 *
 * <p>A store is keyed by {@code (capteur_id, timestamp)}: writing a reading it already holds is not an error and
 * does not store it twice.
 */
public interface MesureStore extends AutoCloseable {

    /**
     * Writes every reading of {@code blocks} in one transaction and makes it durable, and sets each row's
     * {@link ReadingBlock#outcome outcome}: {@code STORED} when new; {@code DUPLICATE} when the key is already
     * stored with the same temperature (a resend; temperatures compare as numbers, so 0.0 and -0.0 are the same); {@code CONFLICT}, with the stored temperature, when it is stored
     * with another one, which is kept. Two rows of one call with the same key count as if written one after the
     * other. A store that cannot see every earlier key (the file store remembers only recent ones) writes a row
     * whose key it cannot see.
     *
     * @return how many readings were stored (rows now {@code STORED})
     * @throws StoreException when nothing of this call could be made durable; outcomes are then meaningless and
     *                        the call may be retried with the same blocks
     */
    int write(List<ReadingBlock> blocks) throws StoreException;

    /**
     * Starts the store's own threads, if it has any, before the first {@link #write}. One that dies of something
     * unexpected calls {@code onThreadDeath}, on that thread.
     */
    default void start(Consumer<Throwable> onThreadDeath) {
    }

    /** What and where, for logs and {@code /health}. */
    String describe();

    @Override
    void close();
}
