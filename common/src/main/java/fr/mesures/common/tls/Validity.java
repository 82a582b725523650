package fr.mesures.common.tls;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The period in which a certificate may be used, both to ask for one when making a certificate and to read it back
 * from a certificate that was loaded.
 */
public record Validity(Instant notBefore, Instant notAfter) {

    // Certificates made here start a little in the past, as public CAs do, so that a peer whose clock is a few
    // minutes behind does not refuse a certificate made a second ago.
    private static final Duration BACKDATE = Duration.ofHours(1);

    public Validity {
        Objects.requireNonNull(notBefore, "notBefore");
        Objects.requireNonNull(notAfter, "notAfter");
        if (notAfter.isBefore(notBefore)) {
            throw new IllegalArgumentException("a validity ending at " + notAfter + " before it starts at " + notBefore);
        }
    }

    /** Valid from an hour ago (for clock skew) until {@code length} from now. */
    public static Validity fromNow(Duration length) {
        Instant now = Instant.now();
        return new Validity(now.minus(BACKDATE), now.plus(length));
    }

    public static Validity of(X509Certificate certificate) {
        return new Validity(certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant());
    }

    public boolean contains(Instant instant) {
        return !instant.isBefore(notBefore) && !instant.isAfter(notAfter);
    }
}
