package fr.mesures.capteur.source;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SimulatedTemperaturesTest {

    private static final long MIDNIGHT = 1_764_028_800_000L; // 2025-11-25T00:00:00Z
    private static final long HOUR = 3_600_000L;

    private static double[] run(long seed, int n, long start, long step) {
        var source = new SimulatedTemperatures(seed);
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = source.poll(start + i * step).temperature();
        }
        return values;
    }

    @Test
    void theSameSeedGivesTheSameTemperatures() {
        assertThat(run(42, 500, MIDNIGHT, 1000)).containsExactly(run(42, 500, MIDNIGHT, 1000));
        assertThat(run(42, 500, MIDNIGHT, 1000)).isNotEqualTo(run(43, 500, MIDNIGHT, 1000));
    }

    @Test
    void afternoonsAreWarmerThanNightsAndValuesStayBelievable() {
        for (long seed = 0; seed < 20; seed++) {
            var source = new SimulatedTemperatures(seed);
            double night = 0;
            double afternoon = 0;
            for (int day = 0; day < 3; day++) {
                long dayStart = MIDNIGHT + day * 24 * HOUR;
                for (int minute = 0; minute < 60; minute++) {
                    double at3 = source.poll(dayStart + 3 * HOUR + minute * 60_000L).temperature();
                    double at15 = source.poll(dayStart + 15 * HOUR + minute * 60_000L).temperature();
                    assertThat(at3).isBetween(-10.0, 40.0);
                    assertThat(at15).isBetween(-10.0, 40.0);
                    night += at3;
                    afternoon += at15;
                }
            }
            assertThat(afternoon / 180).as("seed %d", seed).isGreaterThan(night / 180 + 3.0);
        }
    }

    @Test
    void valuesHaveAProbesResolutionAndMoveSmoothly() {
        double[] values = run(7, 1000, MIDNIGHT, 1000);
        for (int i = 0; i < values.length; i++) {
            assertThat(Math.abs(values[i] * 100 - Math.round(values[i] * 100))).isLessThan(1e-6);
            if (i > 0) {
                assertThat(Math.abs(values[i] - values[i - 1])).isLessThan(1.0);
            }
        }
    }

    @Test
    void aClosedSourceHasEnded() {
        var source = new SimulatedTemperatures(1);
        assertThat(source.ended()).isFalse();
        source.close();
        assertThat(source.ended()).isTrue();
        assertThat(source.poll(MIDNIGHT)).isNull();
    }
}
