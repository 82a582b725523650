package fr.mesures.serveur.auth;

import java.io.IOException;

/** A credentials file that cannot be used; the message names the file and line and says what is wrong. */
public final class CredentialsException extends IOException {

    public CredentialsException(String message) {
        super(message);
    }
}
