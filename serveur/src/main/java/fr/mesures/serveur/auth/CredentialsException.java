package fr.mesures.serveur.auth;

/** A credentials file that cannot be used; the message names the file and line and says what is wrong. */
public final class CredentialsException extends Exception {

    public CredentialsException(String message) {
        super(message);
    }
}
