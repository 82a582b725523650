package fr.mesures.serveur;

import fr.mesures.serveur.storage.MesureStore;
import fr.mesures.serveur.storage.Stores;
import java.nio.file.Path;
import java.time.Clock;
import java.util.function.UnaryOperator;

/** A {@link ServeurTCP} on an ephemeral loopback port with its store in a test's folder. */
final class RunningServeur implements AutoCloseable {

    final ServeurTCP serveur;
    final Path store;

    RunningServeur(ServeurTCP serveur, Path store) {
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

    /**
     * A SQLite server whose store is {@code wrap} applied to the real one: for tests that must see, or hold, what
     * the writer does with the store.
     */
    static RunningServeur sqliteWrapped(Path dir, UnaryOperator<MesureStore> wrap) throws Exception {
        Path store = dir.resolve("mesures.db");
        var settings = ServeurSettings.builder().bind("127.0.0.1").port(0).httpPort(-1).store("sqlite:" + store)
                .build();
        // The bound of unacknowledged readings matters to the file store only.
        var serveur = new ServeurTCP(settings, Clock.systemUTC(),
                wrap.apply(Stores.open(settings.store(), settings.sqlite(), 100_000)));
        serveur.start();
        return new RunningServeur(serveur, store);
    }

    int port() {
        return serveur.port();
    }

    int tlsPort() {
        return serveur.tlsPort();
    }

    TestClient connect() throws Exception {
        return TestClient.connect(port());
    }

    /** Rows in {@code mesures} matching {@code where}; see {@link Probe#rows}. */
    long rows(String where) {
        return Probe.rows(store, where);
    }

    long rows() {
        return rows("");
    }

    String metrics() {
        return serveur.metrics().scrape();
    }

    /** A metric summed over the series with these labels; see {@link Probe#metric}. */
    double metric(String name, String... labelValuePairs) {
        return Probe.metric(metrics(), name, labelValuePairs);
    }

    @Override
    public void close() {
        serveur.close();
    }
}
