package fr.mesures.capteur.network;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogBudgetTest {

    @Test
    void allowsSoManyLinesPerWindowThenStartsAgain() {
        var budget = new LogBudget("test lines", 3, 1000);
        int allowed = 0;
        for (int i = 0; i < 100; i++) {
            allowed += budget.allow(5_000 + i) ? 1 : 0;
        }
        assertThat(allowed).isEqualTo(3);
        budget.flush(5_999);
        assertThat(budget.allow(5_999)).isFalse();
        budget.flush(6_000);
        assertThat(budget.allow(6_000)).isTrue();
    }
}
