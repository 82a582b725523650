package fr.mesures.capteur.it;

import fr.mesures.serveur.ServeurSettings;
import fr.mesures.serveur.ServeurTCP;
import java.nio.file.Path;

/** The real server, in this JVM, on an ephemeral port of 127.0.0.1, storing into a SQLite file. */
final class InProcessServer implements AutoCloseable {

    private final ServeurTCP serveur;
    final Path database;

    private InProcessServer(ServeurTCP serveur, Path database) {
        this.serveur = serveur;
        this.database = database;
    }

    static InProcessServer start(Path database) throws Exception {
        return start(database, 0, ServeurSettings.builder());
    }

    static InProcessServer start(Path database, int port, ServeurSettings.Builder settings) throws Exception {
        ServeurTCP serveur = new ServeurTCP(settings.bind("127.0.0.1").port(port).httpPort(-1)
                .store("sqlite:" + database).build());
        serveur.start();
        return new InProcessServer(serveur, database);
    }

    int port() {
        return serveur.port();
    }

    String address() {
        return "127.0.0.1:" + port();
    }

    Mesures mesures() {
        return new Mesures(database);
    }

    @Override
    public void close() {
        serveur.close();
    }
}
