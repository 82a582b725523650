package fr.mesures.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeSet;

/** The few calls of Prometheus' HTTP API (/api/v1) that a person would make to see the server from Prometheus. */
final class PrometheusApi {

    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();

    PrometheusApi(String host, int port) {
        this.base = URI.create("http://" + host + ":" + port + "/api/v1/");
    }

    /** The health ("up", "down", "unknown") of the scrape target of this job, if Prometheus has one. */
    Optional<String> targetHealth(String job) {
        for (JsonNode target : get("targets?state=active").path("activeTargets")) {
            if (job.equals(target.path("labels").path("job").asText())) {
                return Optional.of(target.path("health").asText());
            }
        }
        return Optional.empty();
    }

    /** The value of an instant query that gives one series, or empty while it gives none. */
    OptionalDouble value(String query) {
        JsonNode result = get("query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8))
                .path("result");
        if (result.size() != 1) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(Double.parseDouble(result.get(0).path("value").get(1).asText()));
    }

    /** The names of the alerting rules Prometheus loaded. */
    Set<String> alertNames() {
        Set<String> names = new TreeSet<>();
        for (JsonNode group : get("rules?type=alert").path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                names.add(rule.path("name").asText());
            }
        }
        return names;
    }

    private JsonNode get(String path) {
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("Prometheus answered " + response.statusCode() + " to " + path);
            }
            JsonNode answer = json.readTree(response.body());
            if (!"success".equals(answer.path("status").asText())) {
                throw new IllegalStateException("Prometheus: " + answer.path("error").asText());
            }
            return answer.path("data");
        } catch (IOException e) {
            throw new UncheckedIOException("Prometheus at " + base + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
