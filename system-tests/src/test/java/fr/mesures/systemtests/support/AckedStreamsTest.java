package fr.mesures.systemtests.support;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.protocole.Reading;
import org.junit.jupiter.api.Test;

/**
 * AckedStreams writes its readings by hand into a reused buffer; the server must see exactly what a sensor
 * following the protocol sends, or the system tests would test another protocol.
 */
class AckedStreamsTest {

    @Test
    void eachLineIsTheProtocolsOwnJsonOfTheReading() {
        StringBuilder text = new StringBuilder();
        // temperature(i) repeats every 1000 readings: these are all the temperatures the clients ever send.
        for (long i = 0; i < 1000; i++) {
            long timestamp = 1_600_000_000_000L + i * 7919;
            AckedStreams.ndjson(text, "sonde_" + i, AckedStreams.temperature(i), timestamp);
            assertThat(text.toString()).as("reading %d", i)
                    .isEqualTo(new Reading("sonde_" + i, AckedStreams.temperature(i), timestamp).toJson());
        }
    }

    @Test
    void theBufferHoldsOnlyTheLastLine() {
        StringBuilder text = new StringBuilder();
        AckedStreams.ndjson(text, "un_capteur_au_nom_long", -19.9, 1_700_000_000_000L);
        AckedStreams.ndjson(text, "b", 0.0, 0);
        assertThat(text.toString()).isEqualTo(new Reading("b", 0.0, 0).toJson());
    }
}
