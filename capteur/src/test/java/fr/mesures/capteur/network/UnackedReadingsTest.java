package fr.mesures.capteur.network;

import static org.assertj.core.api.Assertions.assertThat;

import fr.mesures.protocole.Reading;
import org.junit.jupiter.api.Test;

class UnackedReadingsTest {

    private static Reading reading(long timestamp) {
        return new Reading("c", 20.0, timestamp);
    }

    /** Writes every waiting reading as values first, first + 1, ... and returns the next free value number. */
    private static long writeAll(UnackedReadings buffer, long first) {
        long index = first;
        while (buffer.nextToWrite() != null) {
            buffer.written(index++);
        }
        return index;
    }

    @Test
    void anAckForgetsTheWrittenReadingsItCoversAndNoMore() {
        var buffer = new UnackedReadings(10);
        for (long t = 1; t <= 5; t++) {
            buffer.add(reading(t));
        }
        writeAll(buffer, 2); // value 1 was the acks request: readings are values 2..6

        assertThat(buffer.acknowledge(1)).isZero();
        assertThat(buffer.acknowledge(4)).isEqualTo(3);
        assertThat(buffer.size()).isEqualTo(2);
        assertThat(buffer.acknowledge(4)).isZero(); // acks repeat harmlessly
        assertThat(buffer.acknowledge(6)).isEqualTo(2);
        assertThat(buffer.isEmpty()).isTrue();
    }

    @Test
    void aRejectedReadingIsForgottenAndTheOthersStay() {
        var buffer = new UnackedReadings(10);
        for (long t = 1; t <= 3; t++) {
            buffer.add(reading(t));
        }
        writeAll(buffer, 2);

        assertThat(buffer.reject(3)).isEqualTo(reading(2));
        assertThat(buffer.reject(3)).isNull();
        assertThat(buffer.reject(99)).isNull();
        assertThat(buffer.rewind()).isEqualTo(2);
        assertThat(buffer.nextToWrite()).isEqualTo(reading(1));
    }

    @Test
    void rewindPutsTheWrittenReadingsBackInFrontInTheirOrder() {
        var buffer = new UnackedReadings(10);
        for (long t = 1; t <= 4; t++) {
            buffer.add(reading(t));
        }
        buffer.written(2);
        buffer.written(3); // readings 1 and 2 written, 3 and 4 waiting

        assertThat(buffer.rewind()).isEqualTo(2);
        assertThat(buffer.writtenCount()).isZero();
        long[] order = new long[4];
        for (int i = 0; i < 4; i++) {
            order[i] = buffer.nextToWrite().timestamp();
            buffer.written(2 + i); // numbering restarts on the new connection
        }
        assertThat(order).containsExactly(1, 2, 3, 4);
        assertThat(buffer.acknowledge(5)).isEqualTo(4);
    }

    @Test
    void anAckThatArrivesAfterARewindForgetsNothing() {
        // The sensor gives a connection up on an internal_error for value 3; the ack 3 right behind it on the wire
        // (were it read) must not forget the reading the server failed on.
        var buffer = new UnackedReadings(10);
        for (long t = 1; t <= 2; t++) {
            buffer.add(reading(t));
        }
        writeAll(buffer, 2); // values 2 and 3

        assertThat(buffer.rewind()).isEqualTo(2);
        assertThat(buffer.acknowledge(3)).isZero();
        assertThat(buffer.reject(3)).isNull();
        assertThat(buffer.size()).isEqualTo(2);
        assertThat(buffer.nextToWrite()).isEqualTo(reading(1));
    }

    @Test
    void whenFullTheOldestIsDroppedAndCounted() {
        var buffer = new UnackedReadings(3);
        for (long t = 1; t <= 3; t++) {
            assertThat(buffer.add(reading(t))).isFalse();
        }
        buffer.written(2); // reading 1 is written, the oldest of all

        assertThat(buffer.add(reading(4))).isTrue();
        assertThat(buffer.add(reading(5))).isTrue();

        assertThat(buffer.dropped()).isEqualTo(2);
        assertThat(buffer.size()).isEqualTo(3);
        assertThat(buffer.acknowledge(2)).isZero(); // the ack of the dropped reading finds nothing
        assertThat(buffer.nextToWrite()).isEqualTo(reading(3));
    }
}
