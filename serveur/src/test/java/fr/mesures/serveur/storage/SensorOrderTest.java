package fr.mesures.serveur.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SensorOrderTest {

    @Test
    void groupsBySensorInKeyOrderAndKeepsArrivalOrderWithinASensor() {
        var first = new ReadingBlock(4);
        first.add("b", 1, 30);
        first.add("a", 2, 10);
        first.add("b", 3, 5);
        var second = new ReadingBlock(4);
        second.add("c", 4, 1);
        second.add("a", 5, 10);
        second.add("b", 6, 40);
        List<ReadingBlock> blocks = List.of(first, second);

        var order = new SensorOrder();
        order.sort(blocks);

        List<String> seen = new ArrayList<>();
        for (int i = 0; i < order.size(); i++) {
            ReadingBlock block = blocks.get(order.block(i));
            seen.add(block.capteurId(order.row(i)) + (int) block.temperature(order.row(i)));
        }
        assertThat(seen).containsExactly("a2", "a5", "b1", "b3", "b6", "c4");
    }

    @Test
    void isReusableWithSmallerAndLargerGroups() {
        var order = new SensorOrder();
        var big = new ReadingBlock(1000);
        for (int i = 0; i < 1000; i++) {
            big.add("s" + (i % 7), i, i);
        }
        order.sort(List.of(big));
        assertThat(order.size()).isEqualTo(1000);
        var small = new ReadingBlock(2);
        small.add("z", 1, 1);
        order.sort(List.of(small));
        assertThat(order.size()).isEqualTo(1);
        assertThat(order.row(0)).isZero();
        order.sort(List.of());
        assertThat(order.size()).isZero();
    }
}
