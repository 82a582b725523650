package fr.mesures.common.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Real handshakes over loopback between blocking sockets built from {@link TlsContexts}. */
class TlsHandshakeTest {

    private static final int TIMEOUT_MS = 10_000;

    @TempDir
    Path directory;

    private final ExecutorService acceptor = Executors.newSingleThreadExecutor();
    private CertifiedKey authority;
    private Path authorityFile;
    private Pki.Files server;

    @BeforeEach
    void makeCertificates() throws IOException {
        authority = Certificates.authority("test CA", Pki.CURRENT);
        authorityFile = Pki.writeAuthority(directory, "test", authority);
        server = Pki.localhostServer(directory, authority);
    }

    @AfterEach
    void stop() {
        acceptor.shutdownNow();
    }

    /** What the server side saw of one connection: the protocol and the client's identity. */
    private record Accepted(String protocol, Optional<String> identity) {
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void aClientTrustingTheCaConnectsWithEitherProtocol(String protocol) throws Exception {
        ServerTls serverTls = TlsContexts.server(server.certificate(), server.key(), null, ClientAuth.NONE);
        ClientTls clientTls = TlsContexts.client(authorityFile, null, null, false);
        try (SSLServerSocket listener = listen(serverTls)) {
            Future<Accepted> accepted = acceptOne(listener);
            SSLParameters parameters = clientTls.parameters();
            parameters.setProtocols(new String[] {protocol});
            try (SSLSocket client = connect(clientTls, parameters, "localhost", listener.getLocalPort())) {
                assertThat(exchange(client)).isEqualTo('!');
                assertThat(client.getSession().getProtocol()).isEqualTo(protocol);
                assertThat(TlsPolicy.allowed(client.getSession().getCipherSuite())).isTrue();
            }
            assertThat(accepted.get(TIMEOUT_MS, TimeUnit.MILLISECONDS)).isEqualTo(new Accepted(protocol, Optional.empty()));
        }
    }

    @Test
    void theIpAddressInTheCertificateIsAcceptedAsAHostName() throws Exception {
        ServerTls serverTls = TlsContexts.server(server.certificate(), server.key(), null, ClientAuth.NONE);
        ClientTls clientTls = TlsContexts.client(authorityFile, null, null, false);
        try (SSLServerSocket listener = listen(serverTls)) {
            acceptOne(listener);
            try (SSLSocket client = connect(clientTls, clientTls.parameters(), "127.0.0.1", listener.getLocalPort())) {
                assertThat(exchange(client)).isEqualTo('!');
            }
        }
    }

    @Test
    void aHostNameTheCertificateDoesNotNameIsRefused() throws Exception {
        ServerTls serverTls = TlsContexts.server(server.certificate(), server.key(), null, ClientAuth.NONE);
        ClientTls clientTls = TlsContexts.client(authorityFile, null, null, false);
        try (SSLServerSocket listener = listen(serverTls)) {
            acceptOne(listener);
            try (SSLSocket client = connect(clientTls, clientTls.parameters(), "wrong.example", listener.getLocalPort())) {
                assertThatThrownBy(client::startHandshake).isInstanceOf(SSLHandshakeException.class)
                        .hasMessageContaining("wrong.example");
            }
        }
    }

    @Test
    void insecureSkipsTheHostNameAndTheAuthority() throws Exception {
        ServerTls serverTls = TlsContexts.server(server.certificate(), server.key(), null, ClientAuth.NONE);
        ClientTls clientTls = TlsContexts.client(null, null, null, true);
        try (SSLServerSocket listener = listen(serverTls)) {
            acceptOne(listener);
            try (SSLSocket client = connect(clientTls, clientTls.parameters(), "wrong.example", listener.getLocalPort())) {
                assertThat(exchange(client)).isEqualTo('!');
            }
        }
    }

    @Test
    void aServerFromAnotherAuthorityIsRefused() throws Exception {
        Pki.Files stranger = Pki.localhostServer(Files.createDirectory(directory.resolve("other")),
                Certificates.authority("other CA", Pki.CURRENT));
        ServerTls serverTls = TlsContexts.server(stranger.certificate(), stranger.key(), null, ClientAuth.NONE);
        ClientTls clientTls = TlsContexts.client(authorityFile, null, null, false);
        try (SSLServerSocket listener = listen(serverTls)) {
            acceptOne(listener);
            try (SSLSocket client = connect(clientTls, clientTls.parameters(), "localhost", listener.getLocalPort())) {
                assertThatThrownBy(client::startHandshake).isInstanceOf(SSLHandshakeException.class);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0x0302, 0x0303})
    void aClientOfferingOnlyTls11IsRefusedWhereTls12IsAnswered(int version) throws Exception {
        // The JDK's own client refuses to even offer TLS 1.1, so the ClientHello is written by hand; the same
        // hello as TLS 1.2 gets a ServerHello, which shows the refusal is about the version alone.
        ServerTls serverTls = TlsContexts.server(server.certificate(), server.key(), null, ClientAuth.NONE);
        try (SSLServerSocket listener = listen(serverTls); Socket client = new Socket()) {
            Future<Accepted> accepted = acceptOne(listener);
            client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), TIMEOUT_MS);
            client.setSoTimeout(TIMEOUT_MS);
            client.getOutputStream().write(clientHello(version));
            InputStream in = client.getInputStream();
            int recordType = in.read();
            if (version == 0x0302) {
                assertThat(recordType).as("an alert record").isEqualTo(21);
                in.readNBytes(4);
                assertThat(in.readNBytes(2)).as("fatal protocol_version").containsExactly(2, 70);
                assertThatThrownBy(() -> accepted.get(TIMEOUT_MS, TimeUnit.MILLISECONDS))
                        .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SSLHandshakeException.class);
            } else {
                assertThat(recordType).as("a handshake record (ServerHello)").isEqualTo(22);
            }
        }
    }

    @Test
    void mutualTlsWithTheRightAuthorityGivesTheClientsCommonName() throws Exception {
        Pki.Files client = Pki.write(directory, "client",
                Certificates.client(authority, "capteur_7", Pki.CURRENT, KeyType.RSA_2048), KeyFormat.PKCS1);
        ServerTls serverTls = TlsContexts.server(server.certificate(), server.key(), authorityFile, ClientAuth.REQUIRED);
        ClientTls clientTls = TlsContexts.client(authorityFile, client.certificate(), client.key(), false);
        try (SSLServerSocket listener = listen(serverTls)) {
            Future<Accepted> accepted = acceptOne(listener);
            try (SSLSocket socket = connect(clientTls, clientTls.parameters(), "localhost", listener.getLocalPort())) {
                assertThat(exchange(socket)).isEqualTo('!');
            }
            assertThat(accepted.get(TIMEOUT_MS, TimeUnit.MILLISECONDS).identity()).contains("capteur_7");
        }
    }

    @Test
    void optionalClientAuthAcceptsAClientWithoutCertificateAndNamesNobody() throws Exception {
        ServerTls serverTls = TlsContexts.server(server.certificate(), server.key(), authorityFile, ClientAuth.OPTIONAL);
        ClientTls clientTls = TlsContexts.client(authorityFile, null, null, false);
        try (SSLServerSocket listener = listen(serverTls)) {
            Future<Accepted> accepted = acceptOne(listener);
            try (SSLSocket socket = connect(clientTls, clientTls.parameters(), "localhost", listener.getLocalPort())) {
                assertThat(exchange(socket)).isEqualTo('!');
            }
            assertThat(accepted.get(TIMEOUT_MS, TimeUnit.MILLISECONDS).identity()).isEmpty();
        }
    }

    @Test
    void requiredClientAuthRefusesACertificateFromAnUnknownAuthority() throws Exception {
        Pki.Files stranger = Pki.write(directory, "stranger",
                Certificates.client(Certificates.authority("rogue CA", Pki.CURRENT), "capteur_7", Pki.CURRENT,
                        KeyType.EC_P256), KeyFormat.SEC1);
        assertClientRefused(TlsContexts.client(authorityFile, stranger.certificate(), stranger.key(), false));
    }

    @Test
    void requiredClientAuthRefusesAClientWithoutCertificate() throws Exception {
        assertClientRefused(TlsContexts.client(authorityFile, null, null, false));
    }

    private void assertClientRefused(ClientTls clientTls) throws Exception {
        ServerTls serverTls = TlsContexts.server(server.certificate(), server.key(), authorityFile, ClientAuth.REQUIRED);
        try (SSLServerSocket listener = listen(serverTls)) {
            Future<Accepted> accepted = acceptOne(listener);
            try (SSLSocket socket = connect(clientTls, clientTls.parameters(), "localhost", listener.getLocalPort())) {
                // In TLS 1.3 the client may finish its handshake before the server has judged its certificate:
                // the refusal surfaces on the first write or read, as an alert or as a broken pipe depending on
                // timing; the server's side below is the precise check.
                assertThatThrownBy(() -> exchange(socket)).isInstanceOf(IOException.class);
            }
            assertThatThrownBy(() -> accepted.get(TIMEOUT_MS, TimeUnit.MILLISECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SSLHandshakeException.class);
        }
    }

    private static SSLServerSocket listen(ServerTls tls) throws IOException {
        SSLServerSocket listener = (SSLServerSocket) tls.context().getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress());
        listener.setSSLParameters(tls.parameters());
        listener.setSoTimeout(TIMEOUT_MS);
        return listener;
    }

    /** Accepts one connection, completes the handshake, reads one byte and answers '!'. */
    private Future<Accepted> acceptOne(SSLServerSocket listener) {
        return acceptor.submit(() -> {
            try (SSLSocket socket = (SSLSocket) listener.accept()) {
                socket.setSoTimeout(TIMEOUT_MS);
                socket.startHandshake();
                socket.getInputStream().read();
                socket.getOutputStream().write('!');
                socket.getOutputStream().flush();
                return new Accepted(socket.getSession().getProtocol(), PeerIdentities.of(socket.getSession()));
            }
        });
    }

    /** A socket to the loopback address that believes it reached {@code host}, the name it checks. */
    private static SSLSocket connect(ClientTls tls, SSLParameters parameters, String host, int port) throws IOException {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MS);
        plain.setSoTimeout(TIMEOUT_MS);
        SSLSocket socket = (SSLSocket) tls.context().getSocketFactory().createSocket(plain, host, port, true);
        socket.setSSLParameters(parameters);
        return socket;
    }

    private static int exchange(SSLSocket socket) throws IOException {
        socket.getOutputStream().write('?');
        socket.getOutputStream().flush();
        int answer = socket.getInputStream().read();
        if (answer < 0) {
            throw new SSLException("closed by the server without an answer");
        }
        return answer;
    }

    /** A minimal ClientHello: two ECDHE-ECDSA suites, P-256, ECDSA-SHA256 signatures, and no other extension. */
    private static byte[] clientHello(int version) {
        byte[] extensions = {
            0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17,             // supported_groups: secp256r1
            0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                         // ec_point_formats: uncompressed
            0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03};            // signature_algorithms: ecdsa_secp256r1_sha256
        ByteBuffer body = ByteBuffer.allocate(512);
        body.putShort((short) version).put(new byte[32]).put((byte) 0);  // version, random, no session id
        body.putShort((short) 4).putShort((short) 0xc02b).putShort((short) 0xc009); // ..._AES_128_GCM, ..._AES_128_CBC_SHA
        body.put((byte) 1).put((byte) 0);                                 // compression: null
        body.putShort((short) extensions.length).put(extensions);
        int bodyLength = body.position();
        ByteBuffer record = ByteBuffer.allocate(bodyLength + 9);
        record.put((byte) 22).putShort((short) 0x0301).putShort((short) (bodyLength + 4));
        record.put((byte) 1).put((byte) 0).putShort((short) bodyLength);
        record.put(body.array(), 0, bodyLength);
        return record.array();
    }
}
