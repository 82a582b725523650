package fr.mesures.capteur.it;

import fr.mesures.common.tls.ServerTls;
import fr.mesures.serveur.ServeurSettings;
import fr.mesures.serveur.ServeurTCP;
import fr.mesures.serveur.auth.AuthSettings;
import fr.mesures.serveur.network.TlsListen;
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

    /** The server with its TLS listener alone, on {@code tlsPort} (0 for any free one). */
    static InProcessServer startTls(Path database, int tlsPort, ServerTls tls) throws Exception {
        return startTls(database, tlsPort, tls, AuthSettings.NONE);
    }

    /** The server with its TLS listener alone, deciding who may write what as {@code auth} says. */
    static InProcessServer startTls(Path database, int tlsPort, ServerTls tls, AuthSettings auth) throws Exception {
        ServeurTCP serveur = new ServeurTCP(ServeurSettings.builder().bind("127.0.0.1").port(-1).httpPort(-1)
                .tls(TlsListen.of(tlsPort, tls, TlsListen.DEFAULT_HANDSHAKE_TIMEOUT))
                .auth(auth)
                .store("sqlite:" + database).build());
        serveur.start();
        return new InProcessServer(serveur, database);
    }

    int port() {
        return serveur.port();
    }

    int tlsPort() {
        return serveur.tlsPort();
    }

    /** A metric of the server, summed over every series of that name. */
    double metric(String name) {
        return serveur.metrics().scrape().lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** The series of {@code name} whose label {@code label} is {@code value}. */
    double metric(String name, String label, String value) {
        return serveur.metrics().scrape().lines().filter(l -> l.startsWith(name + "{")
                        && l.contains(label + "=\"" + value + "\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
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
