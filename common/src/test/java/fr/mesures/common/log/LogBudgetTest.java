package fr.mesures.common.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class LogBudgetTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void allowsSoManyLinesPerWindowThenStartsAgain() {
        var budget = new LogBudget(LoggerFactory.getLogger(LogBudgetTest.class), "test lines", 3, Duration.ofSeconds(1));
        int allowed = 0;
        for (int i = 0; i < 100; i++) {
            allowed += budget.allow(5 * SECOND + i) ? 1 : 0;
        }
        assertThat(allowed).isEqualTo(3);
        budget.roll(6 * SECOND - 1);
        assertThat(budget.allow(6 * SECOND - 1)).isFalse();
        budget.roll(6 * SECOND);
        assertThat(budget.allow(6 * SECOND)).isTrue();
    }
}
