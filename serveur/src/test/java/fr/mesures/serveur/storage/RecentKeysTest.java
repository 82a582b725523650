package fr.mesures.serveur.storage;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RecentKeysTest {

    @Test
    void recognisesKeysWithinTheWindowAndForgetsOlderOnes() {
        var keys = new RecentKeys(1000);
        for (int i = 0; i < 1000; i++) {
            assertThat(keys.add("s" + (i % 10), i, 20.0)).isTrue();
        }
        for (int i = 500; i < 1000; i++) {
            assertThat(keys.add("s" + (i % 10), i, 20.0)).as("key %d", i).isFalse();
        }
        for (int i = 1000; i < 3000; i++) {
            keys.add("s" + (i % 10), i, 20.0);
        }
        // Forgotten: the window moved on.
        assertThat(keys.add("s0", 0, 20.0)).isTrue();
    }

    @Test
    void distinguishesSensorsAndTimes() {
        var keys = new RecentKeys(100);
        assertThat(keys.add("a", 1, 1.0)).isTrue();
        assertThat(keys.add("b", 1, 1.0)).isTrue();
        assertThat(keys.add("a", 2, 1.0)).isTrue();
        assertThat(keys.add("ab", 1, 1.0)).isTrue();
        assertThat(keys.add("a", 1, 1.0)).isFalse();
    }

    @Test
    void keepsTheFirstTemperatureOfEachKeyAcrossTheGenerationSwap() {
        var keys = new RecentKeys(1000);
        // 1,000 keys fill the first generation, which becomes the previous one; 500 more go into the next.
        for (int i = 0; i < 1500; i++) {
            assertThat(keys.add("s" + (i % 10), i, temperature(i))).isTrue();
        }
        for (int i = 0; i < 1500; i++) {
            assertThat(keys.add("s" + (i % 10), i, 99.0)).as("key %d", i).isFalse();
            assertThat(keys.found()).as("key %d", i).isEqualTo(temperature(i));
        }
        // Raw bits, not numeric equality: -0.0 stays -0.0.
        assertThat(keys.add("z", 0, -0.0)).isTrue();
        assertThat(keys.add("z", 0, 0.0)).isFalse();
        assertThat(Double.compare(keys.found(), -0.0)).isZero();
    }

    @Test
    void takesSixtyFourBytesPerKeyWhateverTheCount() {
        assertThat(RecentKeys.BYTES_PER_KEY).isEqualTo(64);
        for (int n : new int[] {16, 1000, 1024, 1025, 239_674}) {
            assertThat(new RecentKeys(n).footprintBytes()).as("%d keys", n).isEqualTo(64L * n);
        }
    }

    private static double temperature(int i) {
        return -40 + i * 0.1;
    }
}
