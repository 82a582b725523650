package fr.mesures.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectImageResponse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * Builds both images from the Dockerfiles as a user does ({@code docker build -f Dockerfile.serveur .} at the root)
 * and checks what the Dockerfiles promise: small images, a non-root user, a working HEALTHCHECK, sqlite3 beside the
 * server, a heap sized from the container's memory, and a graceful stop on SIGTERM.
 */
@RequiresDocker
@Timeout(value = 20, unit = java.util.concurrent.TimeUnit.MINUTES)
class ImagesIT {

    private static final Logger log = LoggerFactory.getLogger(ImagesIT.class);

    static final String SERVEUR = "mesures-serveur:it";
    static final String CAPTEUR = "mesures-capteur:it";
    private static final String BASE = "eclipse-temurin:17-jre";
    /** Decimal, as `docker images` counts. */
    private static final long MB = 1_000_000;

    @BeforeAll
    static void buildImages() {
        // A cold build downloads the base images' packages and every Maven dependency; later ones hit the cache.
        build("Dockerfile.serveur", SERVEUR);
        build("Dockerfile.capteur", CAPTEUR);
    }

    private static void build(String dockerfile, String tag) {
        Command.Result built = Command.run(Repository.root(), Duration.ofMinutes(15),
                "docker", "build", "-f", dockerfile, "-t", tag, ".").orFail();
        log.info("built {} from {} in {} s", tag, dockerfile, built.took().toSeconds());
    }

    @Test
    void imagesAddLittleToTheJavaRuntime() {
        long base = image(BASE).getSize();
        long serveur = image(SERVEUR).getSize() - base;
        long capteur = image(CAPTEUR).getSize() - base;
        log.info("image sizes: {} {} MB, {} {} MB, i.e. {} ({} MB) + {} MB and + {} MB", SERVEUR,
                (base + serveur) / MB, CAPTEUR, (base + capteur) / MB, BASE, base / MB, serveur / MB, capteur / MB);
        // The server's jar (~19 MB, mostly sqlite-jdbc's native libraries) and sqlite3; the sensor's jar (~4 MB).
        // Far below what a leaked JDK, Maven repository or build folder would add.
        assertThat(serveur).as("bytes the server image adds to %s", BASE).isLessThan(40 * MB);
        assertThat(capteur).as("bytes the sensor image adds to %s", BASE).isLessThan(15 * MB);
    }

    @Test
    void imagesRunAsTheirOwnUserWithTheJvmAsPidOne() {
        for (String tag : List.of(SERVEUR, CAPTEUR)) {
            var config = image(tag).getConfig();
            assertThat(config.getUser()).as("%s user", tag).isEqualTo("mesures");
            // Exec form: java itself is PID 1 and receives SIGTERM, no shell in between.
            assertThat(config.getEntrypoint()).as("%s entrypoint", tag).startsWith("java")
                    .anyMatch(flag -> flag.startsWith("-XX:MaxRAMPercentage="))
                    .contains("-XX:+ExitOnOutOfMemoryError");
        }
    }

    @Test
    void capteurImageStartsTheSensorProgram() {
        try (var capteur = new GenericContainer<>(CAPTEUR).withCommand("--version")
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofMinutes(1)))) {
            capteur.start();
            assertThat(capteur.getLogs()).contains("capteur");
        }
    }

    /**
     * The server image as it runs: healthy by its own HEALTHCHECK, storing a reading in /data where sqlite3 reads
     * it, as user 10001, with a heap of half a 512 MB limit, and stopping cleanly on SIGTERM.
     */
    @Test
    void serveurImageServesStoresAndStopsGracefully() throws Exception {
        long limit = 512L * 1024 * 1024;
        try (var serveur = new GenericContainer<>(SERVEUR).withExposedPorts(5050, 8080)
                .withCreateContainerCmdModifier(create -> create.getHostConfig().withMemory(limit))
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofMinutes(2)))) {
            serveur.start();

            assertThat(send(serveur.getHost(), serveur.getMappedPort(5050),
                    "{\"acks\": true}\n{\"capteur_id\": \"image_it\", \"temperature\": 21.5, \"timestamp\": 1764000000123}\n"))
                    .contains("{\"ack\":2}");
            var query = serveur.execInContainer("sqlite3", "/data/mesures.db",
                    "SELECT capteur_id, temperature, timestamp FROM mesures");
            assertThat(query.getExitCode()).as(query.getStderr()).isZero();
            assertThat(query.getStdout().strip()).isEqualTo("image_it|21.5|1764000000123");
            assertThat(serveur.execInContainer("id", "-u").getStdout().strip()).isEqualTo("10001");

            long heap = maxHeap(metrics(serveur.getHost(), serveur.getMappedPort(8080)));
            log.info("server heap with a 512 MiB memory limit: {} MiB", heap >> 20);
            // The JVM's own default would be a quarter of the limit.
            assertThat(heap).isBetween(limit * 45 / 100, limit * 50 / 100);

            DockerClient docker = DockerClientFactory.instance().client();
            long start = System.nanoTime();
            // The grace time of docker-compose.yml's stop_grace_period: what a user's stop allows.
            docker.stopContainerCmd(serveur.getContainerId()).withTimeout(60).exec();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            InspectContainerResponse.ContainerState state =
                    docker.inspectContainerCmd(serveur.getContainerId()).exec().getState();
            log.info("server stopped by SIGTERM in {} ms, exit code {}", took.toMillis(), state.getExitCodeLong());
            // 143 = ended by SIGTERM after its shutdown hook ran (SigtermIT checks the same outside Docker); 137 would
            // be Docker's SIGKILL after the grace time.
            assertThat(state.getExitCodeLong()).isEqualTo(143L);
            assertThat(took).isLessThan(Duration.ofSeconds(40));
        }
    }

    private static InspectImageResponse image(String tag) {
        return DockerClientFactory.instance().client().inspectImageCmd(tag).exec();
    }

    /** Sends the lines, closes the sending side, and returns every reply line until the server closes. */
    private static List<String> send(String host, int port, String lines) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 10_000);
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(lines.getBytes(StandardCharsets.UTF_8));
            out.flush();
            socket.shutdownOutput();
            var replies = new ArrayList<String>();
            var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                replies.add(line);
            }
            return replies;
        }
    }

    private static String metrics(String host, int port) throws IOException, InterruptedException {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    /** The sum of the heap pools' maximum sizes, from Micrometer's jvm_memory_max_bytes. */
    private static long maxHeap(String metrics) {
        Matcher pool = Pattern.compile("(?m)^jvm_memory_max_bytes\\{[^}]*area=\"heap\"[^}]*\\} (\\S+)$")
                .matcher(metrics);
        long sum = 0;
        while (pool.find()) {
            double max = Double.parseDouble(pool.group(1));
            if (max > 0) { // -1: a pool without a limit of its own
                sum += (long) max;
            }
        }
        assertThat(sum).as("heap pools in /metrics").isPositive();
        return sum;
    }
}
