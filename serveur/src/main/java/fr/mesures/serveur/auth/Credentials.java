package fr.mesures.serveur.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The identities a server knows, as read from a credentials file ({@code --credentials}): immutable, so a re-read
 * file replaces the whole set at once and a connection sees either the old set or the new one.
 *
 * <p>The file has one credential per line, {@code SUBJECT PATTERN NAME}, separated by spaces; {@code #} starts a
 * comment. {@code SUBJECT} is {@code sha256:HEX} (the SHA-256 of a token, which the server never stores) or
 * {@code cert:CN} (maps a client certificate's subject to a pattern other than its own name). {@code serveur
 * credentials add} writes token lines, so nobody computes hashes by hand.
 *
 * <p>A token is looked up by its SHA-256: the time the lookup takes depends only on the digest of what the client
 * sent, which tells an attacker nothing about any stored token (finding a token from its digest is the preimage
 * problem). The one comparison made with a stored digest is constant-time all the same.
 */
public final class Credentials {

    public static final Credentials NONE = new Credentials(List.of());

    private static final String TOKEN_PREFIX = "sha256:";
    private static final String CERTIFICATE_PREFIX = "cert:";
    private static final HexFormat HEX = HexFormat.of();

    private final List<Credential> all;
    private final Map<String, Credential> byTokenDigest = new HashMap<>();
    private final Map<String, Credential> byCertificate = new HashMap<>();

    private Credentials(List<Credential> credentials) {
        this.all = List.copyOf(credentials);
        for (Credential c : all) {
            (c.kind() == Credential.Kind.TOKEN ? byTokenDigest : byCertificate).put(c.subject(), c);
        }
    }

    /** @throws CredentialsException naming the file and line of the first problem */
    public static Credentials read(Path file) throws CredentialsException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CredentialsException(file + ": cannot read the credentials file: " + e);
        }
        return parse(file.toString(), lines);
    }

    static Credentials parse(String source, List<String> lines) throws CredentialsException {
        List<Credential> credentials = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        Map<String, Integer> subjects = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            int number = i + 1;
            Credential credential;
            try {
                Optional<Credential> parsed = parseLine(lines.get(i));
                if (parsed.isEmpty()) {
                    continue;
                }
                credential = parsed.get();
            } catch (IllegalArgumentException e) {
                throw new CredentialsException(source + ":" + number + ": " + e.getMessage());
            }
            Integer before = names.putIfAbsent(credential.name(), number);
            if (before != null) {
                throw new CredentialsException(source + ":" + number + ": the name '" + credential.name()
                        + "' is already used on line " + before + " (names identify credentials to revoke)");
            }
            before = subjects.putIfAbsent(credential.kind() + ":" + credential.subject(), number);
            if (before != null) {
                throw new CredentialsException(source + ":" + number + ": the same " + (credential.kind()
                        == Credential.Kind.TOKEN ? "token" : "certificate") + " is already on line " + before);
            }
            credentials.add(credential);
        }
        return new Credentials(credentials);
    }

    /**
     * The credential on one line, or nothing for a blank line or a comment.
     *
     * @throws IllegalArgumentException saying what is wrong with the line
     */
    static Optional<Credential> parseLine(String text) {
        String line = text.strip();
        if (line.isEmpty() || line.startsWith("#")) {
            return Optional.empty();
        }
        String[] fields = line.split("\\s+");
        if (fields.length != 3) {
            throw new IllegalArgumentException("expected SUBJECT PATTERN NAME, got " + fields.length + " field(s)");
        }
        return Optional.of(new Credential(fields[2], kind(fields[0]), subject(fields[0]),
                CapteurPattern.parse(fields[1])));
    }

    private static Credential.Kind kind(String subject) {
        if (subject.startsWith(TOKEN_PREFIX)) {
            return Credential.Kind.TOKEN;
        }
        if (subject.startsWith(CERTIFICATE_PREFIX)) {
            return Credential.Kind.CERTIFICATE;
        }
        throw new IllegalArgumentException("'" + subject + "' must start with " + TOKEN_PREFIX + " (a token's"
                + " SHA-256) or " + CERTIFICATE_PREFIX + " (a client certificate's subject)");
    }

    private static String subject(String field) {
        if (field.startsWith(CERTIFICATE_PREFIX)) {
            String name = field.substring(CERTIFICATE_PREFIX.length());
            if (name.isEmpty()) {
                throw new IllegalArgumentException("'" + field + "' names no certificate subject");
            }
            return name;
        }
        String hex = field.substring(TOKEN_PREFIX.length()).toLowerCase(java.util.Locale.ROOT);
        if (hex.length() != 64 || !hex.chars().allMatch(ch -> Character.digit(ch, 16) >= 0)) {
            throw new IllegalArgumentException("'" + field + "' is not a SHA-256: 64 hexadecimal digits expected"
                    + " after " + TOKEN_PREFIX);
        }
        return hex;
    }

    /** The line that records {@code credential} in a credentials file. */
    public static String line(Credential credential) {
        String subject = (credential.kind() == Credential.Kind.TOKEN ? TOKEN_PREFIX : CERTIFICATE_PREFIX)
                + credential.subject();
        return subject + " " + credential.pattern() + " " + credential.name();
    }

    /** The SHA-256 of a token, in lowercase hex, as the file keeps it. */
    public static String digest(String token) {
        try {
            return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** The credential whose token this is. */
    public Optional<Credential> forToken(String token) {
        String digest = digest(token);
        Credential found = byTokenDigest.get(digest);
        if (found == null || !MessageDigest.isEqual(HEX.parseHex(digest), HEX.parseHex(found.subject()))) {
            return Optional.empty();
        }
        return Optional.of(found);
    }

    /** The identity of a client certificate with this subject: the file's mapping for it, else its own name. */
    public Credential forCertificate(String subject) {
        Credential mapped = byCertificate.get(subject);
        return mapped != null ? mapped : Credential.ofCertificate(subject);
    }

    /**
     * Whether a connection that authenticated as {@code credential} may go on: its line is still in the file (a
     * certificate's own name, which needs no line, always may).
     */
    public boolean stillHolds(Credential credential) {
        if (credential.kind() == Credential.Kind.CERTIFICATE && !byCertificate.containsKey(credential.subject())) {
            return credential.equals(Credential.ofCertificate(credential.subject()));
        }
        return all.contains(credential);
    }

    public List<Credential> all() {
        return Collections.unmodifiableList(all);
    }

    public boolean isEmpty() {
        return all.isEmpty();
    }
}
