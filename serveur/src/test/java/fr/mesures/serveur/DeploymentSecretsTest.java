package fr.mesures.serveur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.common.tls.ClientAuth;
import fr.mesures.common.tls.ClientTls;
import fr.mesures.common.tls.TlsContexts;
import fr.mesures.protocole.ConnectionReason;
import fr.mesures.protocole.Reading;
import fr.mesures.protocole.Reply;
import fr.mesures.serveur.auth.AuthSettings;
import fr.mesures.serveur.auth.CapteurPattern;
import fr.mesures.serveur.auth.DeploymentSecrets;
import fr.mesures.serveur.network.TlsListen;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What setup-tls makes is a working deployment: a real server started from its certificate, key and credentials
 * file, and a client holding only the sensors' folder (ca.pem, fleet.token), over real TLS on loopback.
 */
@Timeout(60)
class DeploymentSecretsTest {

    @TempDir
    Path dir;
    RunningServeur server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aSensorWithTheFleetFolderIsServedAndOneWithoutTheTokenIsRefused() throws Exception {
        var layout = new DeploymentSecrets.Layout(dir.resolve("secrets"), dir.resolve("fleet"));
        new DeploymentSecrets(layout).prepare(List.of("serveur", "127.0.0.1"), "fleet", CapteurPattern.ANY,
                DeploymentSecrets.DEFAULT_CERTIFICATE_VALIDITY);
        TlsListen tls = TlsListen.of(0, TlsContexts.server(layout.certificate(), layout.key(), null, ClientAuth.NONE),
                TlsListen.DEFAULT_HANDSHAKE_TIMEOUT);
        server = RunningServeur.start(dir.resolve("mesures.db"), "sqlite:",
                b -> b.tls(tls).auth(AuthSettings.tokens(layout.credentials(), true)
                        .withFailureDelay(Duration.ofMillis(100))));
        ClientTls sensor = TlsContexts.client(layout.fleetAuthority(), null, null, false);
        String token = Files.readString(layout.fleetToken()).strip();

        try (var client = TestClient.connectTls(server.tlsPort(), sensor.context(), sensor.parameters())) {
            client.send(Reply.authRequest(token, true) + new Reading("capteur_1", 21.5, 1_764_000_000_000L).toJson());
            assertThat(client.next()).isEqualTo(new Reply.AuthOk());
            assertThat(client.untilAck(2)).as("the token is value 1, the reading value 2").isNotEmpty();
        }
        assertThat(server.rows("capteur_id = 'capteur_1'")).isEqualTo(1);

        try (var client = TestClient.connectTls(server.tlsPort(), sensor.context(), sensor.parameters())) {
            client.send("{\"acks\": true}" + new Reading("capteur_2", 21.5, 1_764_000_000_000L).toJson());
            assertThat(client.untilError().reason()).isEqualTo(ConnectionReason.AUTH_REQUIRED.label());
        }
        assertThat(server.rows("capteur_id = 'capteur_2'")).isZero();

        // The sensors verify the server against that CA alone: the JVM's usual authorities do not vouch for it.
        ClientTls usualAuthorities = TlsContexts.client(null, null, null, false);
        assertThatThrownBy(() -> TestClient.connectTls(server.tlsPort(), usualAuthorities.context(),
                usualAuthorities.parameters())).isInstanceOf(SSLHandshakeException.class);
    }
}
