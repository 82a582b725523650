package fr.mesures.serveur.storage;

import java.util.List;

/**
 * Where readings end up. One thread writes (the pipeline's writer); {@link #write} returns only once the readings
 * are durable, which is what allows the server to acknowledge them.
 *
 * <p>A store is keyed by {@code (capteur_id, timestamp)}: writing a reading it already holds is not an error and
 * does not store it twice.
 */
public interface MesureStore extends AutoCloseable {

    /**
     * Writes every reading of {@code blocks} in one transaction and makes it durable.
     *
     * @return how many readings were new; the others were already stored
     * @throws StoreException when nothing of this call could be made durable; the call may be retried
     */
    int write(List<ReadingBlock> blocks) throws StoreException;

    /** What and where, for logs and {@code /health}. */
    String describe();

    @Override
    void close();
}
