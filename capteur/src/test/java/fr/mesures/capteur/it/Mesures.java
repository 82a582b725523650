package fr.mesures.capteur.it;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;

/** Reads what the server stored in its SQLite file, the way a person would with {@code sqlite3}. */
final class Mesures {

    /** A stored reading's key. */
    record Key(String capteurId, long timestamp) {
    }

    private final Path database;

    Mesures(Path database) {
        this.database = database;
    }

    long count() {
        return single("SELECT count(*) FROM mesures");
    }

    long distinctSensors() {
        return single("SELECT count(DISTINCT capteur_id) FROM mesures");
    }

    Set<Key> keys() {
        Set<Key> keys = new HashSet<>();
        query("SELECT capteur_id, timestamp FROM mesures", rs -> keys.add(new Key(rs.getString(1), rs.getLong(2))));
        return keys;
    }

    java.util.List<Double> temperatures(String capteurId) {
        var list = new java.util.ArrayList<Double>();
        query("SELECT temperature FROM mesures WHERE capteur_id = '" + capteurId + "' ORDER BY timestamp",
                rs -> list.add(rs.getDouble(1)));
        return list;
    }

    java.util.List<Long> timestamps(String capteurId) {
        var list = new java.util.ArrayList<Long>();
        query("SELECT timestamp FROM mesures WHERE capteur_id = '" + capteurId + "' ORDER BY timestamp",
                rs -> list.add(rs.getLong(1)));
        return list;
    }

    private long single(String sql) {
        long[] value = new long[1];
        query(sql, rs -> value[0] = rs.getLong(1));
        return value[0];
    }

    private interface Row {
        void read(ResultSet rs) throws SQLException;
    }

    private void query(String sql, Row row) {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + database);
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                row.read(rs);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read " + database + ": " + e.getMessage(), e);
        }
    }
}
