package fr.mesures.serveur.memory;

/**
 * The one budget for every byte the server holds on its clients' behalf, and the rules that keep a connection
 * within its share: the memory model of docs/architecture.md, enforced. Owned by the selector thread, which makes
 * every charge and every decision, so it needs no synchronisation.
 *
 * <p>Two pools, because what is in them drains differently:
 * <ul>
 *   <li><b>In flight</b>: values between being cut and being acknowledged (their bytes, what decoding makes of
 *       them, rejections and their messages), charged at their worst case ({@link Footprint#value}) when cut, and
 *       at what decoding really made once a worker has decoded them ({@link Footprint#decoded}). The pipeline
 *       drains it by itself. A connection alone may use all of it; while n have values in flight, each at most
 *       {@code 1/(n+1)}.</li>
 *   <li><b>Held</b>: what only the client can release: its partial value, bytes read and not cut yet, reply lines
 *       it has not read, output the kernel has not taken. Each connection holds up to {@link Footprint#RESERVE} of its own, so that a pool
 *       emptied by others never stops a well-behaved client; beyond that it draws on the pool, at most an eighth
 *       of it (and always enough for one value of the maximum size).</li>
 * </ul>
 * A connection with room in flight is read as much as it may hold ({@link #readLimit}); its values are charged as
 * they are cut, and the cut stops as soon as its room is spent, the bytes not reached held for it until it has
 * room again. At zero it is not read, so TCP pushes back on it; it is read again once its own values in flight are
 * back under half its share ({@link #resumable(Account)}), or once a pool is back under half and it may read.
 */
public final class MemoryBudget {

    /** One connection's share of the budget: what it has in flight and what it holds. */
    public static final class Account {
        private long inFlight;
        private long held;
        private boolean waiting;

        public long inFlight() {
            return inFlight;
        }

        public long held() {
            return held;
        }
    }

    /**
     * The least a connection with room is read: reads much smaller than this cost throughput (at 100 connections,
     * commits that touch more sensors' pages), and what it may leave unscanned is small beside the pool.
     */
    public static final int MIN_READ = 64 * 1024;

    private final long inFlightLimit;
    private final long heldLimit;
    private final long heldPerConnection;

    private long inFlight;
    private long heldPool;
    private int accountsInFlight;
    // Connections stopped for lack of room with nothing in flight: they want their share too (see inFlightRoom).
    private int waitingIdle;

    /**
     * @param inFlightLimit     bytes in flight at most
     * @param heldLimit         bytes held beyond the connections' reserves at most
     * @param largestValueBytes the largest value a connection may send, which it must be able to hold whole
     */
    public MemoryBudget(long inFlightLimit, long heldLimit, int largestValueBytes) {
        long oneValue = Footprint.bytes(roundUp(largestValueBytes)) + Footprint.RESERVE;
        if (heldLimit < oneValue) {
            throw new IllegalArgumentException("a value of " + largestValueBytes + " bytes needs " + (oneValue >> 10)
                    + " KiB of held memory, more than the " + (heldLimit >> 10) + " KiB this heap allows");
        }
        this.inFlightLimit = inFlightLimit;
        this.heldLimit = heldLimit;
        this.heldPerConnection = Math.max(heldLimit / 8, oneValue);
    }

    /**
     * The budget for a heap of {@code maxHeapBytes} ({@code Runtime.maxMemory()}): an eighth in flight, a
     * sixteenth held; the connections' own cost ({@link #connectionsFor}) takes at most a sixth more.
     */
    public static MemoryBudget forHeap(long maxHeapBytes, int largestValueBytes) {
        return new MemoryBudget(clamp(maxHeapBytes / 8, 4L << 20, 1L << 30),
                clamp(maxHeapBytes / 16, 1L << 20, 256L << 20), largestValueBytes);
    }

    /** How many connections a heap can hold, at {@link Footprint#CONNECTION} plus a reserve each, in a sixth. */
    public static int connectionsFor(long maxHeapBytes) {
        return (int) Math.min(Integer.MAX_VALUE, connectionBytesFor(maxHeapBytes) / connectionCost(false, false));
    }

    /** The part of a heap that connections themselves may take: a sixth. */
    public static long connectionBytesFor(long maxHeapBytes) {
        return maxHeapBytes / 6;
    }

    /**
     * What one connection costs against {@link #connectionBytesFor}: more over TLS, for its engine and session, and
     * more still while its handshake is under way.
     */
    public static int connectionCost(boolean tls, boolean handshaking) {
        int base = Footprint.CONNECTION + Footprint.RESERVE;
        if (!tls) {
            return base;
        }
        return base + (handshaking ? Footprint.TLS_HANDSHAKE : Footprint.TLS_SESSION);
    }

    public long inFlightLimit() {
        return inFlightLimit;
    }

    public long heldLimit() {
        return heldLimit;
    }

    /** Bytes in flight now. */
    public long inFlight() {
        return inFlight;
    }

    /** Bytes held beyond the connections' reserves now. */
    public long heldPool() {
        return heldPool;
    }

    // ------------------------------------------------------------------------------------------ charges

    /** Charges {@code bytes} in flight to a connection (a value cut), or to no one ({@code account} null). */
    public void charge(Account account, long bytes) {
        inFlight += bytes;
        if (account != null) {
            if (account.inFlight == 0 && bytes > 0) {
                accountsInFlight++;
                if (account.waiting) {
                    waitingIdle--;
                }
            }
            account.inFlight += bytes;
        }
    }

    /** Gives back what {@link #charge} took (the value is acknowledged). */
    public void release(Account account, long bytes) {
        inFlight -= bytes;
        if (account != null) {
            account.inFlight -= bytes;
            if (account.inFlight == 0 && bytes > 0) {
                accountsInFlight--;
                if (account.waiting) {
                    waitingIdle++;
                }
            }
        }
    }

    /** The connection now holds {@code bytes} (partial value, reply lines, unwritten output): 0 once closed. */
    public void hold(Account account, long bytes) {
        heldPool += overReserve(bytes) - overReserve(account.held);
        account.held = bytes;
    }

    // ------------------------------------------------------------------------------------------ decisions

    /**
     * How much more the connection may add in flight: up to the limit, and, while n connections share it (counting
     * this one), up to {@code 1/(n+1)} of it. So n connections together never fill it: a newcomer always finds
     * room, and a well-behaved client beside floods is read at once instead of waiting for them to drain. Sharing
     * are those with values in flight and those {@link #waiting} for room: otherwise, at a moment when every value
     * had been acknowledged, the first connection read again would count itself alone and take everything.
     */
    public long inFlightRoom(Account account) {
        long room = inFlightLimit - inFlight;
        int sharing = sharing(account);
        if (sharing > 1) {
            room = Math.min(room, inFlightLimit / (sharing + 1) - account.inFlight);
        }
        return Math.max(0, room);
    }

    /** Connections sharing the budget, this one included: with values in flight, or waiting for room. */
    private int sharing(Account account) {
        return accountsInFlight + waitingIdle + (account.inFlight > 0 || account.waiting ? 0 : 1);
    }

    /** The connection is stopped for lack of room (true), or read again or closed (false). */
    public void waiting(Account account, boolean stopped) {
        if (account.waiting != stopped) {
            account.waiting = stopped;
            if (account.inFlight == 0) {
                waitingIdle += stopped ? 1 : -1;
            }
        }
    }

    /** How many more bytes the connection may come to hold: what is left of its reserve, then of its pool share. */
    public long holdRoom(Account account) {
        long reserveLeft = Math.max(0, Footprint.RESERVE - account.held);
        long share = Math.min(heldPerConnection - overReserve(account.held), heldLimit - heldPool);
        return reserveLeft + Math.max(0, share);
    }

    /**
     * How many bytes may be read from the connection now: none when it has no room in flight; otherwise what its
     * room can take at what its input has been costing ({@code costPerByte}: charged in flight per byte scanned,
     * lately), since bytes read beyond that wait unscanned, held for the connection, while its client, its window
     * opened, sends more; never more than it may still hold (every byte read may stay with it), nor than the
     * scanner may keep ({@code scannable}: its {@code maxScan} for this connection's {@link #holdRoom}); and at
     * least {@link #MIN_READ}. What is in flight is checked after each value instead, and the scan stops there: it
     * may pass the limit by one value.
     */
    public long readLimit(Account account, long scannable, long costPerByte) {
        long room = inFlightRoom(account);
        if (room <= 0) {
            return 0;
        }
        long worth = Math.max(MIN_READ, room / Math.max(1, costPerByte));
        return Math.min(Math.min(scannable, holdRoom(account)), worth);
    }

    /**
     * True when a connection stopped at its own share in flight may be read again: what it has in flight is back
     * under half its share (and the pool has room for what it holds). Without it, a connection whose values were
     * all acknowledged would wait for everyone else's to drain.
     */
    public boolean resumable(Account account) {
        int sharing = sharing(account);
        long share = sharing > 1 ? inFlightLimit / (sharing + 1) : inFlightLimit;
        return account.inFlight <= share / 2 && inFlight < inFlightLimit && holdRoom(account) > 0;
    }

    /**
     * True when connections stopped for lack of room may have some again: one of the pools is back under half
     * (each is then asked whether it may read, {@link #readLimit}; the half keeps that from being asked at every
     * acknowledgement while a pool stays full).
     */
    public boolean resumable() {
        return inFlight < inFlightLimit / 2 || heldPool < heldLimit / 2;
    }

    private static long overReserve(long held) {
        return Math.max(0, held - Footprint.RESERVE);
    }

    private static long roundUp(int bytes) {
        return (bytes + Footprint.CARRY_STEP - 1L) / Footprint.CARRY_STEP * Footprint.CARRY_STEP;
    }

    private static long clamp(long value, long min, long max) {
        return Math.max(min, Math.min(max, value));
    }
}
