package fr.mesures.serveur.network;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import tlschannel.BufferAllocator;

/**
 * Heap buffers for the TLS channels of one selector thread, reused instead of allocated for every record.
 * tls-channel hands a connection's buffers back as soon as they are empty, so that idle connections hold none,
 * and asks again at the next read or write. Without reuse that is up to three buffers of 17 KiB a reading (the
 * encrypted input, the plaintext, the encrypted ack): measured with 10,000 TLS connections at one reading a second,
 * about 500 MB/s of garbage and a young collection every second, which every connection felt in its ack latency.
 *
 * <p>The channels ask for few sizes (4 KiB, doubled up to 17 KiB), so the pool keeps one short stack per size
 * and at most {@link #MAX_FREE_PER_SIZE} free buffers in each: a selector round reads the connections one after
 * the other and each gives its buffers back before the next takes them, so a handful is enough, and the pool's own
 * memory stays under 3 MiB whatever the number of connections. Buffers come back cleared; their old contents are
 * never visible past what a channel writes into them.
 *
 * <p>Confined to the selector thread, which makes every TLS read, write, handshake step and close (the
 * handshake's delegated tasks on other threads touch no buffer). A call from any other thread bypasses the pool.
 */
final class TlsBufferPool implements BufferAllocator {

    static final int MAX_FREE_PER_SIZE = 64;
    /** More sizes than tls-channel asks for (4,096, 8,192, 16,384 and 17,408 bytes); others are not pooled. */
    private static final int SIZES = 8;

    private final Thread owner;
    private final int[] capacities = new int[SIZES];
    @SuppressWarnings("unchecked")
    private final ArrayDeque<ByteBuffer>[] free = new ArrayDeque[SIZES];
    private int sizes;
    private long allocated;
    private long reused;

    TlsBufferPool(Thread owner) {
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
    long allocated() {
        return allocated;
    }

    long reused() {
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
