package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What tests read beside the protocol: the server's Prometheus scrape and its SQLite file. One copy, so that every
 * test reads a series and counts rows the same way.
 */
final class Probe {

    // A sample line of the Prometheus text format: name, optional {labels}, value, optional timestamp.
    private static final Pattern SAMPLE =
            Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)(?: -?\\d+)?$", Pattern.MULTILINE);
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    // One client for every scrape: each HttpClient keeps a thread of its own until it is collected.
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Probe() {
    }

    /**
     * The sum of the samples of {@code name} whose labels include every given label, value pair (a sample with
     * more labels still counts, so {@code jvm_memory_used_bytes, "area", "heap"} adds up the heap's pools).
     * Label values are compared as written in the scrape: the tests' values need no escaping. Fails when no
     * sample matches, so that a renamed metric or label cannot pass as zero.
     */
    static double metric(String scrape, String name, String... labelValuePairs) {
        if (labelValuePairs.length % 2 != 0) {
            throw new IllegalArgumentException("labels come in name, value pairs");
        }
        Map<String, String> wanted = new HashMap<>();
        for (int i = 0; i < labelValuePairs.length; i += 2) {
            wanted.put(labelValuePairs[i], labelValuePairs[i + 1]);
        }
        double sum = 0;
        int matched = 0;
        Matcher sample = SAMPLE.matcher(scrape);
        while (sample.find()) {
            if (sample.group(1).equals(name) && labels(sample.group(2)).entrySet().containsAll(wanted.entrySet())) {
                sum += Double.parseDouble(sample.group(3));
                matched++;
            }
        }
        assertThat(matched).as("samples of %s with labels %s in%n%s", name, wanted, scrape).isPositive();
        return sum;
    }

    private static Map<String, String> labels(String text) {
        Map<String, String> labels = new HashMap<>();
        if (text != null) {
            Matcher label = LABEL.matcher(text);
            while (label.find()) {
                labels.put(label.group(1), label.group(2));
            }
        }
        return labels;
    }

    /** {@code GET /metrics} of a server listening for HTTP on loopback. */
    static String scrape(int httpPort) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Rows in {@code mesures} matching {@code where} (all of them when empty), read through a connection of its
     * own, as any other reader would.
     */
    static long rows(Path db, String where) {
        return number(db, "SELECT count(*) FROM mesures" + (where.isEmpty() ? "" : " WHERE " + where));
    }

    /** The single number {@code sql} selects from the database at {@code db}. */
    static long number(Path db, String sql) {
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery(sql)) {
            assertThat(result.next()).as("a row from %s", sql).isTrue();
            return result.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
