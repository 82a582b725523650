package fr.mesures.serveur.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * The secret a {@code /metrics} client must present as {@code Authorization: Bearer TOKEN}, read from a file (the
 * same file Prometheus reads with {@code authorization.credentials_file}, both trimming it). Only the token's SHA-256
 * digest is kept, and a presented token is compared by digest with {@link MessageDigest#isEqual}, whose time does
 * not depend on where the two first differ: a client cannot find the token a byte at a time by timing answers.
 */
public final class BearerToken {

    /**
     * Longest token accepted. It must fit in a request's headers (8 KiB); a longer file is more likely the wrong
     * file (a certificate, a key) than a token.
     */
    static final int MAX_BYTES = 4096;

    private static final String SCHEME = "bearer";

    private final byte[] digest;

    private BearerToken(byte[] digest) {
        this.digest = digest;
    }

    /**
     * The token in {@code file}: its content without the blanks around it.
     *
     * @throws IllegalArgumentException with a one-line message naming the file when it cannot be read, is empty, is
     *                                  too long, or holds characters an HTTP header cannot carry
     */
    public static BearerToken read(Path file) {
        String token = text(file).strip();
        if (token.isEmpty()) {
            throw new IllegalArgumentException("the token file " + file + " is empty");
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            // What a client can send after "Bearer ": visible ASCII, no blank inside the token.
            if (c < 0x21 || c > 0x7e) {
                throw new IllegalArgumentException("the token file " + file + " holds a blank, a control or a"
                        + " non-ASCII character (character " + (i + 1) + "); a token is one word of visible ASCII");
            }
        }
        return new BearerToken(sha256(token));
    }

    private static String text(Path file) {
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException("the token file " + file + " is a directory");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("the token file " + file + " does not exist");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("the token file " + file + " cannot be read: permission denied");
        } catch (IOException e) {
            throw new IllegalArgumentException("the token file " + file + " cannot be read: " + e.getMessage());
        }
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException("the token file " + file + " is longer than " + MAX_BYTES
                    + " bytes; is it the right file?");
        }
        // Latin-1 maps every byte, so a binary file reaches the "non-ASCII character" message, not a charset error.
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /**
     * True when {@code authorization} (an {@code Authorization} header's value, or null when there is none) is
     * {@code Bearer} and this token. The scheme is case-insensitive (RFC 9110, 11.1); the token is not.
     */
    public boolean accepts(String authorization) {
        if (authorization == null) {
            return false;
        }
        String value = authorization.strip();
        int space = value.indexOf(' ');
        if (space < 0 || !value.substring(0, space).toLowerCase(Locale.ROOT).equals(SCHEME)) {
            return false;
        }
        return MessageDigest.isEqual(digest, sha256(value.substring(space + 1).strip()));
    }

    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.ISO_8859_1));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Never the token: this object may end up in a log line. */
    @Override
    public String toString() {
        return "BearerToken[sha256 hidden]";
    }
}
