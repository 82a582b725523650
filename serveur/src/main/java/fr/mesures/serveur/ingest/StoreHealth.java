package fr.mesures.serveur.ingest;

/**
 * Whether the last attempt to write to the store succeeded, and if not, why and since when.
 *
 * @param writable     the last write (or the opening of the store) succeeded
 * @param problem      what went wrong, for a person; null when writable
 * @param sinceMillis  when the current state began, epoch milliseconds
 */
public record StoreHealth(boolean writable, String problem, long sinceMillis) {

    static StoreHealth ok(long now) {
        return new StoreHealth(true, null, now);
    }

    static StoreHealth failing(String problem, long since) {
        return new StoreHealth(false, problem, since);
    }
}
