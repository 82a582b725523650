package fr.mesures.capteur.cli;

import fr.mesures.capteur.ServerAddress;
import picocli.CommandLine;

/** Reads {@code --server}: {@link ServerAddress#parse}, its mistakes reported as picocli's bad usage. */
public final class ServerAddressConverter implements CommandLine.ITypeConverter<ServerAddress> {

    @Override
    public ServerAddress convert(String text) {
        try {
            return ServerAddress.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
