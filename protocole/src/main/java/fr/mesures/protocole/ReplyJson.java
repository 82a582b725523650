package fr.mesures.protocole;

import com.fasterxml.jackson.core.JsonFactory;

/** The parser factory of {@link Reply#parse}, which an interface cannot keep privately. */
final class ReplyJson {

    static final JsonFactory FACTORY = new JsonFactory();

    private ReplyJson() {
    }
}
