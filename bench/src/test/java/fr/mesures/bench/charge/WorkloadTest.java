package fr.mesures.bench.charge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.protocole.Reading;
import fr.mesures.protocole.ReadingDecoder;
import fr.mesures.protocole.ReadingRules;
import fr.mesures.protocole.RejectReason;
import fr.mesures.protocole.Reply;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WorkloadTest {

    @Test
    void everyReadingOfEveryConnectionHasItsOwnKeyAndAllAreSent() {
        Workload w = new Workload(100_003, 7, 13, Workload.DEFAULT_BASE_MILLIS);
        Set<String> keys = new HashSet<>();
        List<String> problems = new ArrayList<>();
        ReadingDecoder decoder = new ReadingDecoder(ReadingRules.DEFAULT);
        long total = 0;
        for (int c = 0; c < w.connections(); c++) {
            Workload.Payload p = w.payload(c, false);
            byte[] bytes = bytes(p.bytes());
            int start = 0;
            for (int v = 0; v < p.values(); v++) {
                decoder.decode(bytes, start, p.ends()[v] - start, new ReadingDecoder.Sink() {
                    @Override
                    public void reading(String capteurId, double temperature, long timestamp) {
                        keys.add(capteurId + "@" + timestamp);
                    }

                    @Override
                    public void rejected(int element, RejectReason reason, String message) {
                        problems.add(message);
                    }
                });
                start = p.ends()[v];
            }
            assertThat(start).isEqualTo(bytes.length);
            total += p.values();
        }
        assertThat(problems).isEmpty();
        assertThat(total).isEqualTo(100_003);
        assertThat(keys).hasSize(100_003);
    }

    @Test
    void eachValueIsItsReadingAsTheProtocolWritesIt() {
        Workload w = new Workload(2_000, 3, 1_000, Workload.DEFAULT_BASE_MILLIS);
        for (int c = 0; c < 3; c++) {
            Workload.Payload p = w.payload(c, false);
            byte[] bytes = bytes(p.bytes());
            int start = 0;
            for (int j = 0; j < p.values(); j++) {
                String expected = new Reading(w.capteurId(w.reading(c, j)), w.temperature(w.reading(c, j)),
                        w.timestamp(w.reading(c, j))).toJson();
                assertThat(new String(bytes, start, p.ends()[j] - start, StandardCharsets.US_ASCII))
                        .isEqualTo(expected);
                start = p.ends()[j];
            }
        }
        assertThat(new String(bytes(w.payload(1, false).bytes()), StandardCharsets.US_ASCII))
                .startsWith("{\"capteur_id\":\"capteur_2\",\"temperature\":-19.9,\"timestamp\":1764000000000}\n"
                        + "{\"capteur_id\":\"capteur_5\",\"temperature\":-19.6,\"timestamp\":1764000000000}\n");
        assertThat(w.temperature(0)).isEqualTo(-20.0);
        assertThat(w.temperature(199)).isEqualTo(-0.1);
        assertThat(w.temperature(599)).isEqualTo(39.9);
    }

    @Test
    void oneConnectionMayCarryWhatFitsIn2GiBAndNoMore() {
        // 76 bytes a line at most here: 29 million readings would take 2.2 GB, more than one buffer holds.
        LoadOptions fits = options(new Workload(29_000_000L, 2, 1_000, Workload.DEFAULT_BASE_MILLIS));
        assertThat(fits.workload().largestPayloadBytes(true)).isLessThanOrEqualTo(Workload.MAX_PAYLOAD_BYTES);
        assertThatThrownBy(() -> options(new Workload(29_000_000L, 1, 1_000, Workload.DEFAULT_BASE_MILLIS)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too many readings per connection");
        // The bound holds for the lines the payload really has.
        Workload small = new Workload(1_001, 2, 1_000, Workload.DEFAULT_BASE_MILLIS);
        assertThat(small.largestPayloadBytes(true)).isGreaterThanOrEqualTo(small.payload(0, true).bytes().remaining());
    }

    @Test
    void aBaseThatPutsTimestampsOutOfRangeIsRefusedUpFront() {
        assertThatThrownBy(() -> new Workload(10, 1, 1, Long.MAX_VALUE - 5))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static LoadOptions options(Workload w) {
        return new LoadOptions("127.0.0.1", 5050, w, 0, true, false, 1, 1, Duration.ofMinutes(1), Duration.ZERO,
                false);
    }

    @Test
    void theAcksRequestComesFirstAsValueOne() {
        Workload w = new Workload(10, 2, 5, 0);
        Workload.Payload p = w.payload(1, true);
        byte[] bytes = bytes(p.bytes());
        assertThat(p.firstReading()).isEqualTo(2);
        assertThat(p.values()).isEqualTo(6);
        assertThat(new String(bytes, 0, p.ends()[0], StandardCharsets.US_ASCII)).isEqualTo(Reply.ACKS_REQUEST);
        assertThat(new String(bytes, p.ends()[0], p.ends()[1] - p.ends()[0], StandardCharsets.US_ASCII))
                .isEqualTo(new Reading("capteur_2", w.temperature(1), 0).toJson());
    }

    @Test
    void connectionsShareTheReadingsFairly() {
        Workload w = new Workload(10, 4, 5, 0);
        assertThat(List.of(w.readingsOf(0), w.readingsOf(1), w.readingsOf(2), w.readingsOf(3)))
                .containsExactly(3, 3, 2, 2);
        assertThat(w.reading(2, 1)).isEqualTo(6);
    }

    @Test
    void csvRowsAreTheSameReadingsInTheTablesColumnOrder() throws IOException {
        Workload w = new Workload(1_200, 1, 1_000, Workload.DEFAULT_BASE_MILLIS);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        w.writeCsv(out, 42);
        String[] rows = out.toString(StandardCharsets.US_ASCII).split("\n");
        assertThat(rows).hasSize(1_200);
        assertThat(rows[0]).isEqualTo("capteur_1,1764000000000,-20.0,42");
        assertThat(rows[1_001]).isEqualTo("capteur_2,1764000000001,20.1,42");
        assertThat(new HashSet<>(List.of(rows)).size()).isEqualTo(1_200);
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] b = new byte[buffer.remaining()];
        buffer.duplicate().get(b);
        return b;
    }
}
