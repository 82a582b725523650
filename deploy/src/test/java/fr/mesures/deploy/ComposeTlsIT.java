package fr.mesures.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

/**
 * The TLS and token variant as a user runs it, {@code compose -f docker-compose.yml -f docker-compose.tls.yml up
 * --scale capteur=20}, then what deploy/tls/README.md tells them to do: every reading stored over TLS with the fleet
 * token, the plaintext port closed, a sensor without a token refused, a credential added for a new sensor, the fleet
 * token rotated, the old one revoked, the server's certificate renewed, and the whole stack taken down and up again
 * on the same CA.
 *
 * <p>One stack serves the tests, in order: starting it is the expensive part. The sensors make a fixed number of
 * readings each, so the database's end state is exact.
 */
@RequiresDocker
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class ComposeTlsIT {

    private static final Logger log = LoggerFactory.getLogger(ComposeTlsIT.class);

    private static final int REPLICAS = 20;
    private static final int COUNT = 200;
    private static final String INTERVAL = "50ms";
    private static final Duration RUN_LIMIT = Duration.ofMinutes(2);

    private Compose compose;
    private Map<String, String> environment;
    private String host;
    private int tlsPort;
    private int plaintextPort;
    private boolean failed;
    private long startedAt;

    @RegisterExtension
    final TestWatcher watcher = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            failed = true;
        }
    };

    @BeforeAll
    void startTheStack() {
        host = DockerClientFactory.instance().dockerHostIpAddress();
        tlsPort = freePort();
        plaintextPort = freePort();
        Map<String, String> environment = new HashMap<>();
        environment.put("MESURES_TCP_PORT", String.valueOf(plaintextPort));
        environment.put("MESURES_TLS_PORT", String.valueOf(tlsPort));
        environment.put("MESURES_HTTP_PORT", String.valueOf(freePort()));
        environment.put("MESURES_PROMETHEUS_PORT", String.valueOf(freePort()));
        // The name this test reaches the server by, from outside Docker: the certificate must carry it.
        environment.put("MESURES_TLS_HOST", host);
        environment.put("CAPTEUR_COUNT", String.valueOf(COUNT));
        environment.put("CAPTEUR_INTERVAL", INTERVAL);
        environment.put("CAPTEUR_SENSORS", "1");
        // As deploy/tls/README.md has it: the files named once in COMPOSE_FILE rather than by -f on each command.
        environment.put("COMPOSE_FILE", "docker-compose.yml:docker-compose.tls.yml");
        this.environment = Map.copyOf(environment);
        compose = Compose.of("mesures-tls-it-" + UUID.randomUUID().toString().substring(0, 8), environment, List.of());
        log.info("project {} with {}", compose.project(), compose.version());

        Command.Result build = compose.run(Duration.ofMinutes(15), "build").orFail();
        log.info("compose build: {} s", build.took().toSeconds());
        startedAt = System.nanoTime();
        Command.Result up = compose.run(Duration.ofMinutes(5), "up", "-d", "--scale", "capteur=" + REPLICAS).orFail();
        log.info("compose up -d --scale capteur={}: {} s (setup-tls, then the server until healthy, then the sensors)",
                REPLICAS, up.took().toSeconds());
    }

    @AfterAll
    void removeTheStack() throws IOException {
        if (compose == null) {
            return;
        }
        if (failed) {
            Path file = Path.of("target", compose.project() + ".log").toAbsolutePath();
            Files.writeString(file, compose.logs());
            log.error("the containers' logs are in {}", file);
        }
        compose.close();
    }

    @Test
    @Order(1)
    void everySensorStoresEveryReadingOverTlsWithTheFleetToken() {
        assertThat(compose.run(RUN_LIMIT, "logs", "--no-color", "setup-tls").orFail().stdout())
                .contains("setup-tls: made a private CA");
        await("a first reading in /data/mesures.db").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .ignoreExceptions().until(() -> !readingsPerSensor().isEmpty());
        log.info("first reading stored {} s after `up`", elapsed());
        Map<String, Long> exitCodes = awaitSensorsDone(compose, REPLICAS);
        log.info("{} sensors x {} readings acknowledged {} s after `up`", REPLICAS, COUNT, elapsed());
        assertThat(exitCodes).as("sensor exit codes (0: every reading acknowledged)").hasSize(REPLICAS)
                .allSatisfy((id, code) -> assertThat(code).as(id).isZero());

        Map<String, Integer> stored = readingsPerSensor();
        assertThat(stored.keySet()).isEqualTo(exitCodes.keySet());
        assertThat(stored).allSatisfy((id, rows) -> assertThat(rows).as(id).isEqualTo(COUNT));
        log.info("{} readings stored", stored.values().stream().mapToInt(Integer::intValue).sum());
    }

    @Test
    @Order(2)
    void onlyTheTlsPortListensAndItsCertificateIsTheCasForThisHost() throws Exception {
        // Inside the container: nothing on 5050, the TLS port on 5443.
        Command.Result plaintext = compose.run(RUN_LIMIT, "exec", "-T", "serveur", "bash", "-c",
                "exec 3<>/dev/tcp/127.0.0.1/5050");
        assertThat(plaintext.exitCode()).isNotZero();
        assertThat(plaintext.stdout() + plaintext.stderr()).contains("Connection refused");
        compose.run(RUN_LIMIT, "exec", "-T", "serveur", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5443").orFail();

        // From the host: docker-compose.yml still publishes 5050, to nothing; 5443 speaks TLS with a certificate of
        // the private CA for the host's name, and takes no reading without a token.
        assertThat(plaintextReply()).as("a reading sent to the host's plaintext port").isEmpty();
        X509Certificate authority = authority();
        try (SSLSocket socket = tlsSocket(authority)) {
            X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            served.verify(authority.getPublicKey());
            assertThat(served.getSubjectAlternativeNames().stream().map(name -> String.valueOf(name.get(1))))
                    .contains("serveur", host);
            OutputStream out = socket.getOutputStream();
            out.write("{\"acks\":true}\n{\"capteur_id\":\"hote_1\",\"temperature\":20.5}\n"
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            // Until the server closes: the acks request is acknowledged, the reading refused.
            String replies = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))
                    .lines().collect(Collectors.joining("\n"));
            assertThat(replies).contains("auth_required");
        }
        assertThat(readingsPerSensor()).doesNotContainKey("hote_1");
    }

    @Test
    @Order(3)
    void keysAndTokensAreTheirOwnersAloneAndTheSensorsSeeNoKey() {
        String secrets = compose.exec("serveur", "stat", "-c", "%n %a %u", "/secrets", "/secrets/ca.key",
                "/secrets/serveur.key", "/secrets/credentials", "/secrets/ca.pem", "/secrets/serveur.crt");
        assertThat(secrets.lines()).containsExactly("/secrets 700 10001", "/secrets/ca.key 600 10001",
                "/secrets/serveur.key 600 10001", "/secrets/credentials 600 10001", "/secrets/ca.pem 644 10001",
                "/secrets/serveur.crt 644 10001");
        String fleet = sensorShell("ls -A /fleet; stat -c '%n %a %u' /fleet/fleet.token; id -u").orFail().stdout();
        assertThat(fleet.lines()).containsExactly("ca.pem", "fleet.token", "/fleet/fleet.token 600 10001", "10001");
    }

    @Test
    @Order(4)
    void aSensorWithoutTheTokenIsRefused() {
        Command.Result refused = sensor("intrus", 1, "CAPTEUR_TOKEN_FILE=");
        assertThat(refused.exitCode()).as(refused.stdout() + refused.stderr()).isEqualTo(1);
        assertThat(refused.stdout() + refused.stderr()).contains("auth_required");
        assertThat(readingsPerSensor()).doesNotContainKey("intrus");
    }

    @Test
    @Order(5)
    void anAddedCredentialLetsANewSensorWriteItsPattern() {
        int reloads = credentialsReloads();
        String token = lastLine(setupTls("credentials", "add", "--pattern", "salle_*", "--name", "salle",
                "/secrets/credentials"));
        assertThat(token).matches("[A-Za-z0-9_-]{43}");
        assertThat(setupTls("credentials", "list", "/secrets/credentials")).contains("fleet").contains("salle")
                .contains("salle_*").doesNotContain(token);
        awaitCredentialsReloadAfter(reloads);

        Command.Result salle = sensor("salle_1", 5, "CAPTEUR_TOKEN_FILE=", "CAPTEUR_TOKEN=" + token);
        assertThat(salle.exitCode()).as(salle.stdout() + salle.stderr()).isZero();
        assertThat(readingsPerSensor()).containsEntry("salle_1", 5);
    }

    @Test
    @Order(6)
    void aRotatedFleetTokenServesTheRestartedSensorsAndTheRevokedOneIsRefused() {
        String oldToken = sensorShell("cat /fleet/fleet.token").orFail().stdout().strip();
        int reloads = credentialsReloads();
        setupTls("setup-tls", "--dir", "/secrets", "--fleet-dir", "/fleet", "--new-fleet-token", "--fleet-name",
                "fleet-2");
        awaitCredentialsReloadAfter(reloads);
        Command.Result restart = compose.run(Duration.ofMinutes(3), "restart", "capteur").orFail();
        log.info("compose restart capteur: {} s", restart.took().toSeconds());
        Map<String, Long> exitCodes = awaitSensorsDone(compose, REPLICAS);
        assertThat(exitCodes).as("the same sensors, restarted with fleet-2's token").hasSize(REPLICAS)
                .allSatisfy((id, code) -> assertThat(code).as(id).isZero());
        assertThat(readingsPerSensor()).containsKeys(exitCodes.keySet().toArray(String[]::new))
                .allSatisfy((id, rows) -> assertThat(rows).as(id).isEqualTo(id.equals("salle_1") ? 5 : 2 * COUNT));

        reloads = credentialsReloads();
        setupTls("credentials", "revoke", "fleet", "/secrets/credentials");
        awaitCredentialsReloadAfter(reloads);
        Command.Result revoked = sensor("ancien_1", 1, "CAPTEUR_TOKEN_FILE=", "CAPTEUR_TOKEN=" + oldToken);
        assertThat(revoked.exitCode()).as(revoked.stdout() + revoked.stderr()).isEqualTo(1);
        assertThat(revoked.stdout() + revoked.stderr()).contains("unauthorized");
        assertThat(readingsPerSensor()).doesNotContainKey("ancien_1");
    }

    @Test
    @Order(7)
    void aStackTakenDownAndUpKeepsItsCaAndServesARenewedCertificate() throws Exception {
        String before = compose.exec("serveur", "sha256sum", "/secrets/ca.pem", "/secrets/serveur.crt");
        setupTls("setup-tls", "--dir", "/secrets", "--renew-certificate");
        String renewed = compose.exec("serveur", "sha256sum", "/secrets/ca.pem", "/secrets/serveur.crt");
        assertThat(renewed.lines().toList().get(0)).isEqualTo(before.lines().toList().get(0));
        assertThat(renewed.lines().toList().get(1)).isNotEqualTo(before.lines().toList().get(1));
        X509Certificate renewedCertificate = certificate("/secrets/serveur.crt");
        await("the running server serves the renewed certificate").atMost(Duration.ofSeconds(45))
                .pollInterval(Duration.ofSeconds(2)).ignoreExceptions()
                .until(() -> servedCertificate(authority()).equals(renewedCertificate));
        Map<String, Integer> earlier = readingsPerSensor();

        // Down (containers and network gone, volumes kept) and up again, as after a reboot or an upgrade.
        Command.Result down = compose.run(Duration.ofMinutes(3), "down", "-t", "10").orFail();
        long restartedAt = System.nanoTime();
        Command.Result up = compose.run(Duration.ofMinutes(5), "up", "-d", "--scale", "capteur=" + REPLICAS).orFail();
        log.info("compose down: {} s; up again: {} s", down.took().toSeconds(), up.took().toSeconds());
        assertThat(compose.run(RUN_LIMIT, "logs", "--no-color", "setup-tls").orFail().stdout())
                .contains("kept, nothing changed").doesNotContain("made a private CA");
        assertThat(compose.exec("serveur", "sha256sum", "/secrets/ca.pem", "/secrets/serveur.crt"))
                .as("the same CA, and the renewed certificate").isEqualTo(renewed);

        Map<String, Long> exitCodes = awaitSensorsDone(compose, REPLICAS);
        log.info("{} new sensors x {} readings acknowledged {} s after the second `up`", REPLICAS, COUNT,
                Duration.ofNanos(System.nanoTime() - restartedAt).toSeconds());
        assertThat(exitCodes).as("new sensors: fleet-2's token kept, the renewed certificate, the same ca.pem")
                .hasSize(REPLICAS).allSatisfy((id, code) -> assertThat(code).as(id).isZero());
        Map<String, Integer> stored = readingsPerSensor();
        assertThat(stored).containsAllEntriesOf(earlier).hasSize(earlier.size() + REPLICAS);
        assertThat(exitCodes.keySet()).allSatisfy(id -> assertThat(stored).containsEntry(id, COUNT));
        log.info("{} readings stored in all", stored.values().stream().mapToInt(Integer::intValue).sum());
    }

    @Test
    @Order(8)
    void ownCertificatesReplaceTheGeneratedOnes() throws Exception {
        // One's own CA and certificate, made here with the same command into a folder of the host; any CA will do.
        Path own = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "own-certs-");
        try {
            // The container's user (UID 10001) writes there; a real setup would chown the key to that UID instead.
            Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rwxrwxrwx"));
            compose.run(RUN_LIMIT, "run", "--rm", "-T", "--no-deps", "-v", own + ":/own", "setup-tls", "setup-tls",
                    "--dir", "/own", "--host", "serveur", "--host", host).orFail();
            X509Certificate ownAuthority = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(own.resolve("ca.pem"))));
            X509Certificate generated = authority();
            assertThat(ownAuthority.getPublicKey()).isNotEqualTo(generated.getPublicKey());

            Map<String, String> withOwn = new HashMap<>(environment);
            withOwn.put("COMPOSE_FILE", environment.get("COMPOSE_FILE") + ":deploy/tls/docker-compose.own-certs.yml");
            withOwn.put("MESURES_OWN_CERTS", own.toString());
            Compose ownCompose = Compose.of(compose.project(), withOwn, List.of());
            Set<String> earlier = readingsPerSensor().keySet();
            // A few sensors are enough here: what is new is the certificate they check.
            Command.Result up = ownCompose.run(Duration.ofMinutes(5), "up", "-d", "--scale", "capteur=3").orFail();
            log.info("up again with the own certificate: {} s", up.took().toSeconds());

            Map<String, Long> exitCodes = awaitSensorsDone(ownCompose, 3);
            assertThat(exitCodes).as("sensors trusting the own CA alone").hasSize(3)
                    .allSatisfy((id, code) -> assertThat(code).as(id).isZero());
            assertThat(earlier).doesNotContainAnyElementsOf(exitCodes.keySet());
            Map<String, Integer> stored = readingsPerSensor();
            assertThat(exitCodes.keySet()).allSatisfy(id -> assertThat(stored).containsEntry(id, COUNT));
            try (SSLSocket socket = tlsSocket(ownAuthority)) {
                X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                served.verify(ownAuthority.getPublicKey());
            }
            String sensorSees = ownCompose.run(RUN_LIMIT, "run", "--rm", "-T", "--no-deps", "--entrypoint", "ls",
                    "capteur", "-A", "/own").orFail().stdout();
            assertThat(sensorSees.strip().lines()).as("a sensor's /own").containsExactly("ca.pem");
        } finally {
            try (var files = Files.walk(own)) {
                for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    /** One more sensor, as {@code compose run --rm capteur} starts it, with these variables changed. */
    private Command.Result sensor(String id, int count, String... variables) {
        var arguments = new ArrayList<>(List.of("run", "--rm", "-T", "--no-deps", "-e", "CAPTEUR_ID=" + id, "-e",
                "CAPTEUR_COUNT=" + count, "-e", "CAPTEUR_GIVE_UP_AFTER=60s"));
        for (String variable : variables) {
            arguments.addAll(List.of("-e", variable));
        }
        arguments.add("capteur");
        return compose.run(RUN_LIMIT, arguments.toArray(String[]::new));
    }

    /** A one-off container of the setup-tls service with these arguments, as deploy/tls/README.md runs them. */
    private String setupTls(String... arguments) {
        var command = new ArrayList<>(List.of("run", "--rm", "-T", "setup-tls"));
        command.addAll(List.of(arguments));
        return compose.run(RUN_LIMIT, command.toArray(String[]::new)).orFail().stdout();
    }

    /** How many times the running server has said it read its credentials file again. */
    private int credentialsReloads() {
        String logs = compose.run(RUN_LIMIT, "logs", "--no-color", "serveur").orFail().stdout();
        return (int) logs.lines().filter(line -> line.contains("credentials reloaded")).count();
    }

    private void awaitCredentialsReloadAfter(int reloads) {
        await("the server reads its credentials file again").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(500)).until(() -> credentialsReloads() > reloads);
    }

    /** A shell in a new sensor container: what a sensor can see. */
    private Command.Result sensorShell(String script) {
        return compose.run(RUN_LIMIT, "run", "--rm", "-T", "--no-deps", "--entrypoint", "sh", "capteur", "-c", script);
    }

    private static Map<String, Long> awaitSensorsDone(Compose compose, int replicas) {
        await("every sensor done").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(2))
                .until(() -> {
                    var sensors = compose.containers("capteur");
                    return sensors.size() == replicas
                            && sensors.stream().noneMatch(container -> container.getState().equals("running")
                                    || container.getState().equals("created")
                                    || container.getState().equals("restarting"));
                });
        return compose.containers("capteur").stream().collect(Collectors.toMap(
                container -> container.getId().substring(0, 12), // the sensor's capteur_id: its host name
                container -> DockerClientFactory.instance().client().inspectContainerCmd(container.getId()).exec()
                        .getState().getExitCodeLong()));
    }

    /** Rows per capteur_id, read as a person would: sqlite3 inside the server's container. */
    private Map<String, Integer> readingsPerSensor() {
        String rows = compose.exec("serveur", "sqlite3", "/data/mesures.db",
                "SELECT capteur_id, COUNT(*) FROM mesures GROUP BY capteur_id");
        Map<String, Integer> perSensor = new TreeMap<>();
        for (String row : rows.strip().lines().toList()) {
            List<String> fields = List.of(row.split("\\|"));
            perSensor.put(fields.get(0), Integer.parseInt(fields.get(1)));
        }
        return perSensor;
    }

    private X509Certificate authority() throws Exception {
        return certificate("/secrets/ca.pem");
    }

    /** The first certificate of a PEM file in the server's container. */
    private X509Certificate certificate(String file) throws Exception {
        byte[] pem = compose.exec("serveur", "cat", file).getBytes(StandardCharsets.US_ASCII);
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem));
    }

    private X509Certificate servedCertificate(X509Certificate authority) throws Exception {
        try (SSLSocket socket = tlsSocket(authority)) {
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    /** A TLS connection to the host's published port that trusts the private CA alone and checks the host name. */
    private SSLSocket tlsSocket(X509Certificate authority) throws Exception {
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        trusted.setCertificateEntry("ca", authority);
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(host, tlsPort);
        socket.setSoTimeout(10_000);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return socket;
    }

    /** What the host's plaintext port answers a reading: nothing (refused, or closed by Docker's proxy). */
    private String plaintextReply() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, plaintextPort), 5_000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("{\"acks\":true}\n{\"capteur_id\":\"hote_2\",\"temperature\":20.5}\n"
                    .getBytes(StandardCharsets.UTF_8));
            String line = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            return line == null ? "" : line;
        } catch (SocketTimeoutException e) {
            return "(no answer, and the connection still open, after 10 s)";
        } catch (IOException e) {
            return "";
        }
    }

    private static String lastLine(String text) {
        List<String> lines = text.strip().lines().map(String::strip).toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    private long elapsed() {
        return Duration.ofNanos(System.nanoTime() - startedAt).toSeconds();
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
