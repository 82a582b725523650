package fr.mesures.serveur.reload;

import java.io.IOException;

/**
 * Reads what a {@link Reloader} watches from its files, whole: a value that is usable, or an exception whose
 * message names the file and says what is wrong with it (the reloader logs it as is). Called once by
 * {@link Reloader#watch}, then on the reload thread each time the files change; it must not keep the value it
 * returned from one call to the next.
 *
 * @param <T> what the files make: a TLS setup, a credentials table...
 */
@FunctionalInterface
public interface Loader<T> {

    /**
     * @throws IOException      when the files cannot be read or make no usable value
     * @throws RuntimeException taken as the same: the files are refused and the value in use is kept
     */
    T load() throws IOException;
}
