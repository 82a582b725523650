package fr.mesures.serveur.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HandshakeStepsTest {

    private final HandshakeSteps steps = new HandshakeSteps(1);

    @AfterEach
    void stop() {
        steps.shutdownNow();
    }

    @Test
    void the_steps_of_handshakes_under_way_go_before_new_ones_which_go_in_order_and_gone_ones_are_dropped()
            throws InterruptedException {
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<String> ran = new CopyOnWriteArrayList<>();
        steps.submit(false, () -> false, () -> {
            busy.countDown();
            await(release);
        });
        assertThat(busy.await(10, TimeUnit.SECONDS)).isTrue();

        for (String name : List.of("new-1", "new-2", "gone", "later-1", "new-3", "later-2")) {
            boolean later = name.startsWith("later");
            boolean gone = name.equals("gone");
            steps.submit(later, () -> gone, () -> ran.add(name));
        }
        CountDownLatch last = new CountDownLatch(1);
        steps.submit(false, () -> false, last::countDown);
        release.countDown();

        assertThat(last.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ran).containsExactly("later-1", "later-2", "new-1", "new-2", "new-3");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
