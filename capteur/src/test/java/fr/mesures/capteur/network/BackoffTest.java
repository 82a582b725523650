package fr.mesures.capteur.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

    private final Backoff.Policy policy = new Backoff.Policy(Duration.ofMillis(100), Duration.ofMillis(1000));

    @Test
    void delaysDoubleUpToTheCapWithJitterInTheUpperHalf() {
        var lowest = new Backoff(policy, () -> 0.0);
        var highest = new Backoff(policy, () -> 0.999_999);
        long[] steps = {100, 200, 400, 800, 1000, 1000, 1000};
        for (long step : steps) {
            assertThat(lowest.nextDelayMillis()).isEqualTo(step - step / 2);
            assertThat(highest.nextDelayMillis()).isEqualTo(step);
        }
    }

    @Test
    void resetStartsAgainFromTheInitialDelay() {
        var backoff = new Backoff(policy, () -> 0.999_999);
        for (int i = 0; i < 10; i++) {
            backoff.nextDelayMillis();
        }
        backoff.reset();
        assertThat(backoff.nextDelayMillis()).isEqualTo(100);
    }

    @Test
    void manyFailuresNeverOverflow() {
        var backoff = new Backoff(new Backoff.Policy(Duration.ofMillis(1), Duration.ofDays(365)), () -> 0.5);
        long previous = 0;
        for (int i = 0; i < 200; i++) {
            long delay = backoff.nextDelayMillis();
            assertThat(delay).isPositive().isLessThanOrEqualTo(Duration.ofDays(365).toMillis());
            assertThat(delay).isGreaterThanOrEqualTo(previous / 2);
            previous = delay;
        }
    }
}
