package fr.mesures.capteur.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class TypedTemperaturesTest {

    @Test
    @Timeout(10)
    void everyValidLineIsDeliveredInOrderThenTheSourceEnds() {
        var input = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            // Neither a word nor a temperature below absolute zero reaches the sensor.
            input.append(i % 100 == 0 ? "oops\n-300\n\n" : "").append(i).append(",5\n");
        }
        var source = new TypedTemperatures(new ByteArrayInputStream(input.toString().getBytes(StandardCharsets.UTF_8)));
        var wakeUps = new AtomicInteger();
        source.start(wakeUps::incrementAndGet);
        List<Double> seen = new ArrayList<>();
        await().until(() -> {
            Sample s;
            while ((s = source.poll(0)) != null) {
                assertThat(s.hasTimestamp()).isFalse();
                seen.add(s.temperature());
            }
            return source.ended();
        });
        assertThat(seen).hasSize(1000);
        for (int i = 0; i < 1000; i++) {
            assertThat(seen.get(i)).isEqualTo(i + 0.5);
        }
        assertThat(wakeUps.get()).isPositive();
    }
}
