package fr.mesures.serveur.storage;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RecentKeysTest {

    @Test
    void recognisesKeysWithinTheWindowAndForgetsOlderOnes() {
        var keys = new RecentKeys(1000);
        for (int i = 0; i < 1000; i++) {
            assertThat(keys.add("s" + (i % 10), i)).isTrue();
        }
        for (int i = 500; i < 1000; i++) {
            assertThat(keys.add("s" + (i % 10), i)).as("key %d", i).isFalse();
        }
        for (int i = 1000; i < 3000; i++) {
            keys.add("s" + (i % 10), i);
        }
        // Forgotten: the window moved on.
        assertThat(keys.add("s0", 0)).isTrue();
    }

    @Test
    void distinguishesSensorsAndTimes() {
        var keys = new RecentKeys(100);
        assertThat(keys.add("a", 1)).isTrue();
        assertThat(keys.add("b", 1)).isTrue();
        assertThat(keys.add("a", 2)).isTrue();
        assertThat(keys.add("ab", 1)).isTrue();
        assertThat(keys.add("a", 1)).isFalse();
    }
}
