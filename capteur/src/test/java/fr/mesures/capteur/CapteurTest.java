package fr.mesures.capteur;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.capteur.source.Sample;
import fr.mesures.capteur.source.SimulatedTemperatures;
import fr.mesures.capteur.source.TemperatureSource;
import fr.mesures.protocole.Reading;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CapteurTest {

    /** A source of given samples, for the rule on timestamps. */
    private static final class Given implements TemperatureSource {
        private final ArrayDeque<Sample> samples;

        Given(List<Sample> samples) {
            this.samples = new ArrayDeque<>(samples);
        }

        @Override
        public Sample poll(long nowMillis) {
            return samples.poll();
        }

        @Override
        public boolean ended() {
            return samples.isEmpty();
        }

        @Override
        public void close() {
            samples.clear();
        }
    }

    @Test
    void atFullSpeedTimestampsStrictlyIncreaseAndNeverRunAheadOfTheClock() {
        var now = new AtomicLong(1_000_000L);
        var capteur = new Capteur("capteur_1", new SimulatedTemperatures(1), now::get);
        Reading first = capteur.measure();
        assertThat(first.capteurId()).isEqualTo("capteur_1");
        assertThat(first.timestamp()).isEqualTo(1_000_000L);

        // The clock has not moved: the next sample waits rather than take a key from the future.
        assertThat(capteur.measure()).isNull();
        assertThat(capteur.waitingForClock()).isTrue();
        assertThat(capteur.sourceEnded()).isFalse();

        now.incrementAndGet();
        Reading second = capteur.measure();
        assertThat(second.timestamp()).isEqualTo(1_000_001L);
        assertThat(capteur.waitingForClock()).isFalse();
    }

    @Test
    void theClockIsReadOncePerReading() {
        var ticks = new AtomicLong(5_000);
        var capteur = new Capteur("c", new SimulatedTemperatures(1), ticks::getAndIncrement);
        for (int i = 0; i < 100; i++) {
            assertThat(capteur.measure().timestamp()).isEqualTo(5_000 + i);
        }
    }

    @Test
    void aClockSetBackHoldsMeasuringUntilItHasCaughtUp() {
        var now = new AtomicLong(6_000);
        var capteur = new Capteur("c", new SimulatedTemperatures(1), now::get);
        assertThat(capteur.measure().timestamp()).isEqualTo(6_000);
        now.set(4_000); // the wall clock was set back
        assertThat(capteur.measure()).isNull();
        now.set(6_001);
        assertThat(capteur.measure().timestamp()).isEqualTo(6_001);
    }

    @Test
    void replayedTimesAreKeptAndOnesGoingBackAreSkipped() {
        var source = new Given(List.of(new Sample(20.5, 100), new Sample(21.0, 90), new Sample(21.5, 100),
                Sample.of(22.0), new Sample(22.5, 200)));
        var clock = new AtomicLong(150);
        var capteur = new Capteur("c", source, clock::getAndIncrement);
        assertThat(capteur.measure()).isEqualTo(new Reading("c", 20.5, 100));
        assertThat(capteur.measure()).isEqualTo(new Reading("c", 22.0, 151)); // 90 and 100 skipped
        assertThat(capteur.measure()).isEqualTo(new Reading("c", 22.5, 200));
        assertThat(capteur.measure()).isNull();
        assertThat(capteur.sourceEnded()).isTrue();
        assertThat(capteur.outOfOrderSkipped()).isEqualTo(2);
    }

    @Test
    void anInvalidIdentifierIsRefused() {
        assertThatThrownBy(() -> new Capteur("salle 1", new SimulatedTemperatures(1), () -> 0L))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capteur_id");
    }
}
