package fr.mesures.capteur.auth;

import fr.mesures.protocole.ReadingDecoder;
import fr.mesures.protocole.Reply;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The secret a sensor proves who it is with: sent as {@code {"auth": TOKEN}}, value 1 of every connection. Printable
 * ASCII without spaces (what generated tokens are made of), so it is written byte for byte and never needs more
 * than JSON's own escaping; at most {@link #MAX_LENGTH} characters, the most the server reads (so it always fits
 * the connection's output buffer as well). Its {@link #toString()} hides it: a settings object logged by mistake must not leak it.
 *
 * @param value the token itself
 */
public record AuthToken(String value) {

    /** The server takes no longer token: a longer one would be refused as no token at all. */
    public static final int MAX_LENGTH = ReadingDecoder.MAX_TOKEN_CHARS;
    /** A token file is a few bytes; anything much larger is the wrong file, read no further. */
    private static final int MAX_FILE_BYTES = 4 * MAX_LENGTH;

    public AuthToken {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("the token is empty");
        }
        if (value.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("the token is longer than " + MAX_LENGTH + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                // The position, not the character: the message must not carry any part of the secret.
                throw new IllegalArgumentException("the token has a character that is not printable ASCII at"
                        + " position " + (i + 1) + " (spaces and control characters are not allowed)");
            }
        }
    }

    /**
     * Reads a token from a file, without the whitespace around it (a trailing newline, typically).
     *
     * @throws IllegalArgumentException with a one-line message naming the file when it cannot be read, is empty, or
     *                                  holds something that is not a token
     */
    public static AuthToken readFile(Path file) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_FILE_BYTES + 1);
        } catch (IOException e) {
            String why = e.getMessage() == null || e.getMessage().equals(file.toString())
                    ? e.getClass().getSimpleName() : e.getMessage();
            throw new IllegalArgumentException("cannot read the token file " + file + ": " + why);
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new IllegalArgumentException("the token file " + file + " is larger than " + MAX_FILE_BYTES
                    + " bytes: not a token file");
        }
        String text = new String(bytes, StandardCharsets.UTF_8).strip();
        if (text.isEmpty()) {
            throw new IllegalArgumentException("the token file " + file + " is empty");
        }
        try {
            return new AuthToken(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the token file " + file + ": " + e.getMessage());
        }
    }

    /** The first value of a connection: this token, and the request for replies ({@code "acks": true}). */
    public String request() {
        return Reply.authRequest(value, true);
    }

    @Override
    public String toString() {
        return "AuthToken[hidden]";
    }
}
