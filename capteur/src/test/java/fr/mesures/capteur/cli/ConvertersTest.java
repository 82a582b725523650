package fr.mesures.capteur.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.capteur.ServerAddress;
import fr.mesures.serveur.ServeurSettings;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ConvertersTest {

    @Test
    void serverAddressesTakeHostsPortsAndIpv6() {
        var converter = new ServerAddressConverter();
        assertThat(converter.convert("localhost:5050")).isEqualTo(new ServerAddress("localhost", 5050));
        assertThat(converter.convert("10.0.0.1")).isEqualTo(new ServerAddress("10.0.0.1", 5050));
        assertThat(converter.convert("[::1]:6000")).isEqualTo(new ServerAddress("::1", 6000));
        assertThat(converter.convert("[::1]:6000").toString()).isEqualTo("[::1]:6000");
        for (String bad : new String[] {"host:", ":5050", "host:0", "host:70000", "host:port", "::1", "[::1"}) {
            assertThatThrownBy(() -> converter.convert(bad)).as(bad)
                    .isInstanceOf(CommandLine.TypeConversionException.class);
        }
    }

    @Test
    void withoutAPortTheSensorGoesWhereTheServerListensByDefault() {
        // capteur does not depend on serveur, so the default port is written in both: this keeps them equal.
        assertThat(ServerAddress.DEFAULT_PORT).isEqualTo(ServeurSettings.DEFAULT_PORT);
    }

    @Test
    void sourcesAreNamed() {
        assertThat(SourceSpec.parse("simulated")).isEqualTo(new SourceSpec.Simulated());
        assertThat(SourceSpec.parse("stdin")).isEqualTo(new SourceSpec.Stdin());
        assertThat(SourceSpec.parse("replay:data/a.csv")).isEqualTo(new SourceSpec.Replay(Path.of("data/a.csv")));
        assertThatThrownBy(() -> SourceSpec.parse("replay:")).isInstanceOf(CommandLine.TypeConversionException.class);
        assertThatThrownBy(() -> SourceSpec.parse("random")).isInstanceOf(CommandLine.TypeConversionException.class);
    }
}
