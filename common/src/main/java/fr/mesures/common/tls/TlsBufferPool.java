package fr.mesures.common.tls;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import tlschannel.BufferAllocator;

/**
 * Heap buffers for the TLS channels of one selector thread, reused instead of allocated for every record: the
 * server's selector thread has one, and so has each thread of the load generator, which paid the same price.
 * tls-channel hands a connection's buffers back as soon as they are empty, so that idle connections hold none,
 * and asks again at the next read or write. Without reuse that is up to three buffers of 17 KiB a reading (the
 * encrypted input, the plaintext, the encrypted ack): measured with 10,000 TLS connections at one reading a second,
 * a young collection of the server every 1.2 s (13 to 70 ms, felt in every ack), every 3.6 s (about 10 ms) with it.
 *
 * <p>The channels ask for few sizes (4 KiB, doubled up to 17 KiB), so the pool keeps one short stack per size
 * and at most {@link #MAX_FREE_PER_SIZE} free buffers in each: a selector round reads the connections one after
 * the other and each gives its buffers back before the next takes them, so a handful is enough, and the pool's own
 * memory stays under 3 MiB whatever the number of connections. Buffers come back cleared; their old contents are
 * never visible past what a channel writes into them.
 *
 * <p>Confined to its owner thread, which must make every TLS read, write, handshake step and close of the channels
 * it serves (the handshake's delegated tasks, run elsewhere, touch no buffer). A call from any other thread
 * bypasses the pool.
 */
public final class TlsBufferPool implements BufferAllocator {

    public static final int MAX_FREE_PER_SIZE = 64;
    /** More sizes than tls-channel asks for (4,096, 8,192, 16,384 and 17,408 bytes); others are not pooled. */
    private static final int SIZES = 8;

    private final Thread owner;
    private final int[] capacities = new int[SIZES];
    @SuppressWarnings("unchecked")
    private final ArrayDeque<ByteBuffer>[] free = new ArrayDeque[SIZES];
    private int sizes;
    private long allocated;
    private long reused;

    /** A pool for the channels that {@code owner} alone reads, writes and closes. */
    public TlsBufferPool(Thread owner) {
        this.owner = owner;
    }

    @Override
    public ByteBuffer allocate(int size) {
        if (Thread.currentThread() == owner) {
            ArrayDeque<ByteBuffer> stack = stack(size, false);
            if (stack != null && !stack.isEmpty()) {
                reused++;
                return stack.pop();
            }
            allocated++;
        }
        return ByteBuffer.allocate(size);
    }

    @Override
    public void free(ByteBuffer buffer) {
        if (Thread.currentThread() != owner || buffer.isDirect()) {
            return;
        }
        ArrayDeque<ByteBuffer> stack = stack(buffer.capacity(), true);
        if (stack != null && stack.size() < MAX_FREE_PER_SIZE) {
            stack.push(buffer.clear());
        }
    }

    /** Buffers made by the pool, and buffers it handed out again instead: for tests and profiles. */
    public long allocated() {
        return allocated;
    }

    public long reused() {
        return reused;
    }

    private ArrayDeque<ByteBuffer> stack(int capacity, boolean create) {
        for (int i = 0; i < sizes; i++) {
            if (capacities[i] == capacity) {
                return free[i];
            }
        }
        if (!create || sizes == SIZES) {
            return null;
        }
        capacities[sizes] = capacity;
        free[sizes] = new ArrayDeque<>(MAX_FREE_PER_SIZE);
        return free[sizes++];
    }
}
