package fr.mesures.serveur.auth;

import java.util.Objects;

/**
 * One identity the server knows and what it may write: a token's (known by the SHA-256 of the token) or a client
 * certificate's (known by its subject). Values only: the same line of a credentials file read twice makes equal
 * credentials, which is how a re-read file tells which connections lost theirs.
 *
 * @param name    for logs and error messages; never the secret
 * @param kind    how a connection proves it holds this identity
 * @param subject the token's SHA-256 in lowercase hex, or the certificate's subject (CN, else first DNS name)
 * @param pattern the {@code capteur_id}s it may write
 */
public record Credential(String name, Kind kind, String subject, CapteurPattern pattern) {

    /** How a connection shows it is this identity. */
    public enum Kind {
        /** A bearer token, sent as the connection's first value. */
        TOKEN,
        /** A client certificate from the configured client CA; {@code subject} is its name. */
        CERTIFICATE
    }

    /**
     * Stands for a connection that has not authenticated on a server that requires it: it may write nothing, and
     * its readings are dropped, not rejected one by one (the connection is refused as a whole).
     */
    public static final Credential NOBODY = new Credential("(not authenticated)", Kind.TOKEN, "",
            CapteurPattern.exactly(""));

    public Credential {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(pattern, "pattern");
    }

    /** A certificate's identity that no line of the credentials file maps: it may write its own name only. */
    public static Credential ofCertificate(String subject) {
        return new Credential(subject, Kind.CERTIFICATE, subject, CapteurPattern.exactly(subject));
    }

    public boolean allows(String capteurId) {
        return pattern.matches(capteurId);
    }

    @Override
    public String toString() {
        return name;
    }
}
