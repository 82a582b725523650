package fr.mesures.common.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class TlsBufferPoolTest {

    @Test
    void a_freed_buffer_is_handed_out_again_cleared_for_the_same_size_only() {
        TlsBufferPool pool = new TlsBufferPool(Thread.currentThread());
        ByteBuffer first = pool.allocate(17_408);
        first.put((byte) 1).flip();
        pool.free(first);

        assertThat(pool.allocate(4_096)).isNotSameAs(first);
        ByteBuffer again = pool.allocate(17_408);
        assertThat(again).isSameAs(first);
        assertThat(again.position()).isZero();
        assertThat(again.limit()).isEqualTo(17_408);
        assertThat(pool.reused()).isEqualTo(1);
        assertThat(pool.allocated()).isEqualTo(2);
    }

    @Test
    void it_keeps_at_most_its_bound_of_free_buffers_per_size() {
        TlsBufferPool pool = new TlsBufferPool(Thread.currentThread());
        List<ByteBuffer> held = new ArrayList<>();
        for (int i = 0; i < TlsBufferPool.MAX_FREE_PER_SIZE + 10; i++) {
            held.add(pool.allocate(8_192));
        }
        held.forEach(pool::free);
        for (int i = 0; i < TlsBufferPool.MAX_FREE_PER_SIZE + 10; i++) {
            pool.allocate(8_192);
        }
        assertThat(pool.reused()).isEqualTo(TlsBufferPool.MAX_FREE_PER_SIZE);
    }

    @Test
    void another_thread_neither_takes_nor_gives_back_buffers() throws InterruptedException {
        TlsBufferPool pool = new TlsBufferPool(Thread.currentThread());
        ByteBuffer mine = pool.allocate(16_384);
        AtomicReference<ByteBuffer> theirs = new AtomicReference<>();
        Thread other = new Thread(() -> {
            pool.free(mine);
            theirs.set(pool.allocate(16_384));
        });
        other.start();
        other.join();

        assertThat(theirs.get()).isNotSameAs(mine);
        assertThat(pool.allocate(16_384)).isNotSameAs(mine);
        assertThat(pool.reused()).isZero();
    }
}
