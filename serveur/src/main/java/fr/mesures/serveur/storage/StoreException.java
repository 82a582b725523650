package fr.mesures.serveur.storage;

/** A store could not open, or could not make a write durable. The message is meant for a person. */
public final class StoreException extends Exception {

    private static final long serialVersionUID = 1L;

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreException(String message) {
        super(message);
    }
}
