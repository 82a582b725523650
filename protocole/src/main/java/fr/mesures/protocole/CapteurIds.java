package fr.mesures.protocole;

/**
 * The rule for sensor identifiers: 1 to 64 characters among {@code A-Z a-z 0-9 _ . : -}.
 *
 * <p>The set is small on purpose: an identifier can be written into SQL, a file name, a metric label or a log
 * line without escaping, and two sensors can never differ only by invisible characters.
 */
public final class CapteurIds {

    public static final int MAX_LENGTH = 64;

    private CapteurIds() {
    }

    public static boolean isValid(CharSequence id) {
        if (id == null || id.length() == 0 || id.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            if (!isAllowed(id.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    static boolean isAllowed(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '_' || c == '-' || c == '.' || c == ':';
    }

    /** What is wrong with an identifier, for a person; only meaningful when {@link #isValid} is false. */
    public static String problem(CharSequence id) {
        if (id == null || id.length() == 0) {
            return "capteur_id must not be empty";
        }
        if (id.length() > MAX_LENGTH) {
            return "capteur_id is longer than " + MAX_LENGTH + " characters (got " + SafeText.quote(id) + ")";
        }
        return "capteur_id may only contain A-Z a-z 0-9 _ . : - (got " + SafeText.quote(id) + ")";
    }
}
