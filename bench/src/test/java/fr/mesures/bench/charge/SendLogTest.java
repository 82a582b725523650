package fr.mesures.bench.charge;

import static org.assertj.core.api.Assertions.assertThat;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class SendLogTest {

    private final Histogram h = new Histogram(3_600_000_000L, 3);

    @Test
    void eachReadingIsRecordedOnceWithTheTimeOfTheWriteThatCompletedIt() {
        SendLog log = new SendLog(2); // value 1 is the acks request
        log.sent(10, 0);              // values 1..10 written at t = 0
        log.sent(25, 5_000_000);      // 11..25 at 5 ms
        assertThat(log.ack(7, 2_000_000, h)).isTrue();   // readings 2..7 after 2 ms
        assertThat(h.getTotalCount()).isEqualTo(6);
        assertThat(h.getMaxValue()).isBetween(1_990L, 2_010L);
        log.ack(20, 9_000_000, h);    // 8..10 (written at 0) after 9 ms, 11..20 (written at 5 ms) after 4 ms
        assertThat(h.getTotalCount()).isEqualTo(19);
        assertThat(h.getCountAtValue(9_000)).isEqualTo(3);
        assertThat(h.getCountAtValue(4_000)).isEqualTo(10);
        log.ack(20, 10_000_000, h);   // a repeated ack adds nothing
        log.ack(25, 11_000_000, h);
        assertThat(h.getTotalCount()).isEqualTo(24);
        assertThat(log.acked()).isEqualTo(25);
    }

    @Test
    void anAckBeyondWhatWasSentIsReported() {
        SendLog log = new SendLog(1);
        log.sent(3, 0);
        assertThat(log.ack(4, 1_000, h)).isFalse();
        assertThat(h.getTotalCount()).isEqualTo(3);
    }

    @Test
    void readingsSentDuringTheWarmUpAreAckedButNotRecorded() {
        SendLog log = new SendLog(1);
        log.measureFrom(1_000_000);
        log.sent(1, 0);
        log.sent(2, 500_000);
        log.sent(3, 1_000_000);
        log.ack(3, 3_000_000, h);
        assertThat(log.acked()).isEqualTo(3);
        assertThat(h.getTotalCount()).isEqualTo(1);
        assertThat(h.getMaxValue()).isBetween(1_990L, 2_010L);
    }

    @Test
    void manyPendingWritesGrowTheLog() {
        SendLog log = new SendLog(1);
        for (int v = 1; v <= 1_000; v++) {
            log.sent(v, v * 1_000L);
        }
        log.ack(1_000, 2_000_000, h);
        assertThat(h.getTotalCount()).isEqualTo(1_000);
        assertThat(h.getMinValue()).isEqualTo(1_000);
    }
}
