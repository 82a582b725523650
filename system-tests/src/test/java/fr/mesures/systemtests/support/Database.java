package fr.mesures.systemtests.support;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The server's SQLite file read from outside, the way a person with {@code sqlite3} would (a new connection per
 * question, so each answer is what a reader sees at that moment; WAL lets it read while the server writes).
 */
public final class Database {

    /** A stored reading. */
    public record Row(String capteurId, long timestamp, double temperature) {
    }

    private final Path file;

    public Database(Path file) {
        this.file = file;
    }

    public long count() {
        return single("SELECT count(*) FROM mesures");
    }

    public long count(String capteurId) {
        return query("SELECT count(*) FROM mesures WHERE capteur_id = ?", List.of(capteurId),
                rs -> rs.getLong(1)).get(0);
    }

    /** One sensor's readings in time order. */
    public List<Row> rows(String capteurId) {
        return query("SELECT capteur_id, timestamp, temperature FROM mesures WHERE capteur_id = ? ORDER BY timestamp",
                List.of(capteurId), rs -> new Row(rs.getString(1), rs.getLong(2), rs.getDouble(3)));
    }

    /** Every row whose capteur_id starts with {@code prefix}, grouped by sensor, each in time order. */
    public Map<String, List<Row>> rowsByCapteur(String prefix) {
        Map<String, List<Row>> rows = new HashMap<>();
        for (Row row : query("SELECT capteur_id, timestamp, temperature FROM mesures WHERE capteur_id >= ? AND "
                + "capteur_id < ? ORDER BY capteur_id, timestamp", List.of(prefix, prefix + '\uffff'),
                rs -> new Row(rs.getString(1), rs.getLong(2), rs.getDouble(3)))) {
            rows.computeIfAbsent(row.capteurId(), k -> new ArrayList<>()).add(row);
        }
        return rows;
    }

    public List<Row> all() {
        return query("SELECT capteur_id, timestamp, temperature FROM mesures", List.of(),
                rs -> new Row(rs.getString(1), rs.getLong(2), rs.getDouble(3)));
    }

    /** {@code PRAGMA integrity_check}: "ok" for a database that a crash left whole. */
    public String integrityCheck() {
        return String.join("; ", query("PRAGMA integrity_check", List.of(), rs -> rs.getString(1)));
    }

    private long single(String sql) {
        return query(sql, List.of(), rs -> rs.getLong(1)).get(0);
    }

    private interface RowReader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private <T> List<T> query(String sql, List<Object> parameters, RowReader<T> reader) {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            try (Statement s = c.createStatement()) {
                // A reader never needs the write lock, but the first open of a WAL database may wait briefly.
                s.execute("PRAGMA busy_timeout = 30000");
            }
            try (PreparedStatement s = c.prepareStatement(sql)) {
                for (int i = 0; i < parameters.size(); i++) {
                    s.setObject(i + 1, parameters.get(i));
                }
                List<T> out = new ArrayList<>();
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        out.add(reader.read(rs));
                    }
                }
                return out;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
