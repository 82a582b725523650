package fr.mesures.capteur;

/**
 * Where the server listens: {@code HOST:PORT}, {@code [IPv6]:PORT}, or a bare host for the default port. Its
 * text form is the one {@link #parse} reads, so logs show an IPv6 server as {@code [::1]:5050}, not
 * {@code ::1:5050}.
 *
 * @param host a host name or an address, resolved again at every connection attempt
 * @param port the TCP port
 */
public record ServerAddress(String host, int port) {

    public static final int DEFAULT_PORT = 5050;

    public ServerAddress {
        if (host.isEmpty()) {
            throw new IllegalArgumentException("the server's host is missing");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("the server's port must be between 1 and 65535, got " + port);
        }
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /**
     * @throws IllegalArgumentException with a message for a person
     */
    public static ServerAddress parse(String text) {
        String s = text.strip();
        String host;
        String port = null;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw invalid(text);
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw invalid(text);
                }
                port = rest.substring(1);
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon >= 0 && s.indexOf(':') != colon) {
                throw invalid(text); // a bare IPv6 address: ambiguous without brackets
            }
            host = colon < 0 ? s : s.substring(0, colon);
            port = colon < 0 ? null : s.substring(colon + 1);
        }
        int number = DEFAULT_PORT;
        if (port != null) {
            try {
                number = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw invalid(text);
            }
        }
        return new ServerAddress(host, number); // checks the host is there and the port in range
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException(
                "'" + text + "' is not HOST:PORT (for example localhost:5050 or [::1]:5050)");
    }
}
