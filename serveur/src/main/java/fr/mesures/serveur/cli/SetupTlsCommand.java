package fr.mesures.serveur.cli;

import fr.mesures.common.cli.DurationConverter;
import fr.mesures.serveur.auth.CapteurPattern;
import fr.mesures.serveur.auth.DeploymentSecrets;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code serveur setup-tls}: prepares a deployment with TLS and tokens ({@link DeploymentSecrets}) the first time,
 * and says what it found every time after, changing nothing; the one-shot service of docker-compose.tls.yml runs it
 * at every start. Renewing the server's certificate and adding a fleet token are flags of their own.
 */
@Command(name = "setup-tls", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Makes, once, what a TLS deployment with tokens starts from: a private CA (ca.pem, ca.key),"
                + " the server's certificate (serveur.crt, serveur.key), a credentials file with a credential for the"
                + " fleet of sensors, and its token (fleet.token) beside a copy of ca.pem for the sensors.",
                "Run again, it finds them and changes nothing."})
final class SetupTlsCommand implements Callable<Integer> {

    /** Below this, each run says it is time to renew. */
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);
    private static final DateTimeFormatter DAY = DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC);

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", required = true, paramLabel = "DIR",
            description = "the server's folder: ca.pem, ca.key, serveur.crt, serveur.key, credentials")
    Path dir;

    @Option(names = "--fleet-dir", paramLabel = "DIR",
            description = "the sensors' folder: fleet.token and a copy of ca.pem (default: --dir)")
    Path fleetDir;

    @Option(names = "--host", paramLabel = "NAME",
            description = "a host name or IP address the sensors reach the server by, for its certificate;"
                    + " repeat for more (needed to make one; when renewing, default: the current certificate's)")
    List<String> hosts = new ArrayList<>();

    @Option(names = "--fleet-pattern", paramLabel = "PATTERN", defaultValue = "*",
            description = "the capteur_ids the fleet token may write (default: ${DEFAULT-VALUE})")
    String fleetPattern;

    @Option(names = "--fleet-name", paramLabel = "NAME", defaultValue = "fleet",
            description = "the fleet credential's name (default: ${DEFAULT-VALUE}; with --new-fleet-token, a new one)")
    String fleetName;

    @Option(names = "--validity", paramLabel = "DURATION", defaultValue = "825d",
            converter = DurationConverter.class,
            description = "how long the server's certificate is valid (default: ${DEFAULT-VALUE}; the CA: 3650d)")
    Duration validity;

    @Option(names = "--renew-certificate",
            description = "issue the server a new key and certificate from the existing CA; nothing else changes")
    boolean renewCertificate;

    @Option(names = "--new-fleet-token",
            description = "add the credential --fleet-name with a new token and put it in fleet.token; the previous"
                    + " one stays valid until revoked")
    boolean newFleetToken;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            if (renewCertificate && newFleetToken) {
                throw new IllegalArgumentException("--renew-certificate and --new-fleet-token are two runs, not one");
            }
            if (validity.isZero()) {
                throw new IllegalArgumentException("--validity must be more than 0");
            }
            CapteurPattern pattern = CapteurPattern.parse(fleetPattern);
            DeploymentSecrets.Layout layout = new DeploymentSecrets.Layout(dir, fleetDir == null ? dir : fleetDir);
            DeploymentSecrets secrets = new DeploymentSecrets(layout);
            if (renewCertificate) {
                X509Certificate renewed = secrets.renewCertificate(hosts, validity);
                out.println("setup-tls: a new key and certificate in " + layout.certificate() + " for "
                        + String.join(", ", DeploymentSecrets.names(renewed))
                        + ", valid until " + day(renewed) + "; a running server serves it within seconds (the CA,"
                        + " credentials and tokens are unchanged)");
            } else if (newFleetToken) {
                secrets.newFleetToken(fleetName, pattern);
                out.println("setup-tls: the credential '" + fleetName + "' may write " + pattern + "; its token is in "
                        + layout.fleetToken() + ". Restart the sensors so that they read it, then revoke the previous"
                        + " fleet credential");
            } else {
                report(secrets.prepare(hosts, fleetName, pattern, validity), layout, out, err);
            }
            out.flush();
            return 0;
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            err.println("serveur setup-tls: " + e.getMessage());
            err.flush();
            return Main.BAD_USAGE;
        }
    }

    private void report(DeploymentSecrets.State state, DeploymentSecrets.Layout layout, PrintWriter out,
            PrintWriter err) {
        String certificate = "the server's certificate " + layout.certificate() + " for "
                + String.join(", ", state.names()) + ", valid until " + day(state.certificate());
        if (state.created()) {
            out.println("setup-tls: made a private CA " + layout.authority() + " (valid until "
                    + day(state.authority()) + "), " + certificate + ", the credentials file " + layout.credentials()
                    + " with the credential '" + fleetName + "' for " + fleetPattern + ", and its token in "
                    + layout.fleetToken() + " beside " + layout.fleetAuthority());
            return;
        }
        out.println("setup-tls: found a CA and " + certificate + "; kept, nothing changed");
        List<String> unnamed = hosts.stream().filter(host -> !state.names().contains(host)).toList();
        if (!unnamed.isEmpty()) {
            err.println("setup-tls: the certificate does not name " + String.join(", ", unnamed)
                    + ": sensors reaching the server by that name will refuse it; add --renew-certificate to issue"
                    + " one that does");
        }
        Instant end = state.certificate().getNotAfter().toInstant();
        if (end.isBefore(Instant.now().plus(RENEW_BEFORE))) {
            err.println("setup-tls: the certificate expires on " + day(state.certificate())
                    + ": renew it with --renew-certificate");
        }
    }

    private static String day(X509Certificate certificate) {
        return DAY.format(certificate.getNotAfter().toInstant());
    }
}
