package fr.mesures.capteur.cli;

import picocli.CommandLine;

/**
 * Where the server listens: {@code HOST:PORT}, {@code [IPv6]:PORT}, or a bare host for the default port.
 *
 * @param host a host name or an address
 * @param port the TCP port
 */
public record ServerAddress(String host, int port) {

    public static final int DEFAULT_PORT = 5050;

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** Converts the text of {@code --server}. */
    public static final class Converter implements CommandLine.ITypeConverter<ServerAddress> {
        @Override
        public ServerAddress convert(String text) {
            return parse(text);
        }
    }

    /**
     * @throws CommandLine.TypeConversionException with a message for a person
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
        if (host.isEmpty()) {
            throw invalid(text);
        }
        int number = DEFAULT_PORT;
        if (port != null) {
            try {
                number = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw invalid(text);
            }
            if (number < 1 || number > 65535) {
                throw new CommandLine.TypeConversionException(
                        "'" + text + "': the port must be between 1 and 65535");
            }
        }
        return new ServerAddress(host, number);
    }

    private static CommandLine.TypeConversionException invalid(String text) {
        return new CommandLine.TypeConversionException(
                "'" + text + "' is not HOST:PORT (for example localhost:5050 or [::1]:5050)");
    }
}
