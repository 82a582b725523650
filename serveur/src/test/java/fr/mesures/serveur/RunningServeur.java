package fr.mesures.serveur;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.function.UnaryOperator;

/** A {@link ServeurTCP} on an ephemeral loopback port with its store in a test's folder. */
final class RunningServeur implements AutoCloseable {

    final ServeurTCP serveur;
    final Path store;

    private RunningServeur(ServeurTCP serveur, Path store) {
        this.serveur = serveur;
        this.store = store;
    }

    static RunningServeur sqlite(Path dir) throws Exception {
        return start(dir.resolve("mesures.db"), "sqlite:", UnaryOperator.identity());
    }

    static RunningServeur start(Path store, String kind, UnaryOperator<ServeurSettings.Builder> settings)
            throws Exception {
        var builder = ServeurSettings.builder().bind("127.0.0.1").port(0).httpPort(-1).store(kind + store);
        var serveur = new ServeurTCP(settings.apply(builder).build());
        serveur.start();
        return new RunningServeur(serveur, store);
    }

    int port() {
        return serveur.port();
    }

    TestClient connect() throws Exception {
        return TestClient.connect(port());
    }

    /** Rows in {@code mesures}, read through a connection of its own, as any other reader would. */
    long rows(String where) {
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + store);
                Statement statement = db.createStatement();
                ResultSet result = statement.executeQuery("SELECT count(*) FROM mesures"
                        + (where.isEmpty() ? "" : " WHERE " + where))) {
            result.next();
            return result.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    long rows() {
        return rows("");
    }

    String metrics() {
        return serveur.metrics().scrape();
    }

    @Override
    public void close() {
        serveur.close();
    }
}
