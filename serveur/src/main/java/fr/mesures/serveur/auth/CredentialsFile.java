package fr.mesures.serveur.auth;

import fr.mesures.common.files.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Changes a credentials file for {@code serveur credentials}: adds a token line, removes a credential. Each change
 * replaces the file in one rename, so a server re-reading it sees the old file or the new one, never half of one.
 * Comments and the other lines are kept as they were.
 */
public final class CredentialsFile {

    /** 256 bits: guessing one is hopeless at any rate the server allows. */
    private static final int TOKEN_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String HEADER = """
            # serveur credentials: one per line, SUBJECT PATTERN NAME (see docs/security.md).
            # SUBJECT is sha256:HEX (the SHA-256 of a token) or cert:CN (a client certificate's subject).
            # Managed with: serveur credentials add|list|revoke
            """;

    private final Path file;

    public CredentialsFile(Path file) {
        this.file = file;
    }

    /** A new random token, URL-safe: 43 characters. */
    public static String newToken() {
        byte[] bytes = new byte[TOKEN_BYTES];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * Adds a credential for a new random token and returns the token, which is kept nowhere else.
     *
     * @throws CredentialsException when the name is taken or the file is unusable
     */
    public String addToken(String name, CapteurPattern pattern) throws CredentialsException {
        String token = newToken();
        add(new Credential(name, Credential.Kind.TOKEN, Credentials.digest(token), pattern));
        return token;
    }

    /** Adds a credential (a certificate mapping, or a token line); the name must be new. */
    public void add(Credential credential) throws CredentialsException {
        if (!credential.name().matches("\\S+")) {
            throw new CredentialsException("a credential's name is one word, without spaces: '" + credential.name()
                    + "'");
        }
        List<String> lines = exists() ? lines() : new ArrayList<>(HEADER.lines().toList());
        Credentials current = Credentials.parse(file.toString(), lines);
        if (current.all().stream().anyMatch(c -> c.name().equals(credential.name()))) {
            throw new CredentialsException(file + ": a credential named '" + credential.name()
                    + "' exists already; revoke it first or choose another name");
        }
        lines.add(Credentials.line(credential));
        Credentials.parse(file.toString(), lines);
        write(lines);
    }

    public Credentials read() throws CredentialsException {
        return exists() ? Credentials.read(file) : Credentials.NONE;
    }

    /**
     * Removes the credential of that name.
     *
     * @throws CredentialsException when there is none
     */
    public Credential revoke(String name) throws CredentialsException {
        List<String> lines = lines();
        Credentials current = Credentials.parse(file.toString(), lines);
        Credential gone = current.all().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new CredentialsException(file + ": no credential is named '" + name + "'"));
        lines.removeIf(l -> Credentials.parseLine(l).map(c -> c.equals(gone)).orElse(false));
        write(lines);
        return gone;
    }

    private boolean exists() {
        return Files.exists(file);
    }

    private List<String> lines() throws CredentialsException {
        try {
            return new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CredentialsException(file + ": cannot read the credentials file: " + e);
        }
    }

    private void write(List<String> lines) throws CredentialsException {
        try {
            // Hashes, not tokens, but still nobody else's business: readable by the owner only, as ssh does.
            AtomicFiles.replace(file, String.join("\n", lines) + "\n", true);
        } catch (IOException e) {
            throw new CredentialsException(file + ": cannot write the credentials file: " + e);
        }
    }
}
