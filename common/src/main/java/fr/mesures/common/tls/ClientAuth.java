package fr.mesures.common.tls;

import java.util.Locale;

/**
 * Whether a TLS server asks its clients for a certificate: {@code none}, {@code optional} (checked if sent) or
 * {@code required}, the words of {@code --tls-client-auth}.
 */
public enum ClientAuth {
    NONE, OPTIONAL, REQUIRED;

    /** @throws IllegalArgumentException naming the accepted words */
    public static ClientAuth parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not a client authentication mode"
                    + " (none, optional or required)", e);
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
