package fr.mesures.capteur.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TemperaturesTest {

    @Test
    void numbersAreReadWithTheDecimalCommaWhereItIsAllowed() {
        assertThat(Temperatures.parse(" 23.5 ", true)).isEqualTo(23.5);
        assertThat(Temperatures.parse("23,5", true)).isEqualTo(23.5);
        assertThat(Temperatures.parse("-4", false)).isEqualTo(-4.0);
        assertThatThrownBy(() -> Temperatures.parse("23,5", false)).hasMessageContaining("not a temperature");
        assertThatThrownBy(() -> Temperatures.parse("warm", true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'warm' is not a temperature (for example 23.5)");
    }

    @Test
    void onlyWhatTheProtocolFixesIsRefusedTheMaximumIsTheServers() {
        assertThat(Temperatures.parse("1500", false)).isEqualTo(1500.0);
        assertThat(Temperatures.parse("-273.15", false)).isEqualTo(-273.15);
        assertThatThrownBy(() -> Temperatures.parse("-300", false)).hasMessageContaining("below absolute zero");
        for (String notFinite : new String[] {"NaN", "Infinity", "-Infinity", "1e400"}) {
            assertThatThrownBy(() -> Temperatures.parse(notFinite, false)).as(notFinite)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
