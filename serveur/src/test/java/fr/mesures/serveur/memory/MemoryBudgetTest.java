package fr.mesures.serveur.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import fr.mesures.protocole.RejectReason;
import fr.mesures.serveur.protocol.FrameScanner;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The budget's rules, with the worst input of each kind: no read can take a connection past its share. */
class MemoryBudgetTest {

    private static final long MIB = 1L << 20;
    private static final int MAX_VALUE = 64 * 1024;

    private final MemoryBudget budget = new MemoryBudget(32 * MIB, 8 * MIB, MAX_VALUE);

    @Test
    void aTlsConnectionCostsItsHandshakeThenItsSessionSoA128MiBHeapHoldsAThousandHandshakes() {
        long sixth = MemoryBudget.connectionBytesFor(128 * MIB);
        int plain = MemoryBudget.connectionCost(false, false);
        assertThat(MemoryBudget.connectionCost(false, true)).isEqualTo(plain);
        assertThat(MemoryBudget.connectionCost(true, false)).isEqualTo(plain + Footprint.TLS_SESSION);
        assertThat(MemoryBudget.connectionCost(true, true)).isEqualTo(plain + Footprint.TLS_HANDSHAKE);
        // The measured 11 KB an established TLS connection takes, less the 4 KiB of buffers counted as held, and the
        // 18.7 KB one in its handshake takes, all included.
        assertThat(MemoryBudget.connectionCost(true, false)).isGreaterThanOrEqualTo(11_000 - 4_096);
        assertThat(MemoryBudget.connectionCost(true, true)).isGreaterThanOrEqualTo(18_700);
        assertThat(sixth / MemoryBudget.connectionCost(true, true)).isBetween(1_000L, 1_200L);
        assertThat(sixth / MemoryBudget.connectionCost(true, false)).isBetween(2_000L, 2_300L);
        assertThat(sixth / plain).isGreaterThanOrEqualTo(10_000L);
    }

    @Test
    void aHeapOf128MiBGives16MiBInFlight8MiBHeldAndTenThousandConnections() {
        var forHeap = MemoryBudget.forHeap(128 * MIB, MAX_VALUE);
        assertThat(forHeap.inFlightLimit()).isEqualTo(16 * MIB);
        assertThat(forHeap.heldLimit()).isEqualTo(8 * MIB);
        assertThat(MemoryBudget.connectionsFor(128 * MIB)).isGreaterThanOrEqualTo(10_000);
        // Everything clients can make the server hold, at worst (one value past the limit), against the heap:
        // under half of it.
        long worst = forHeap.inFlightLimit() + Footprint.value((byte) '[', MAX_VALUE) + forHeap.heldLimit()
                + 10_000L * (Footprint.CONNECTION + Footprint.RESERVE);
        assertThat(worst).isLessThan(48 * MIB);
    }

    @Test
    void aHeapTooSmallForOneValueOfTheMaximumSizeIsRefused() {
        assertThatThrownBy(() -> new MemoryBudget(32 * MIB, 1 * MIB, 4 * 1024 * 1024))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4194304 bytes");
    }

    @Test
    void aConnectionAloneMayUseAllOfTheInFlightBudgetAndOneNPlusOnethWhileNShareIt() {
        var alone = new MemoryBudget.Account();
        assertThat(budget.inFlightRoom(alone)).isEqualTo(32 * MIB);
        budget.charge(alone, 20 * MIB);
        assertThat(budget.inFlightRoom(alone)).isEqualTo(12 * MIB);

        var other = new MemoryBudget.Account();
        assertThat(budget.inFlightRoom(other)).as("a newcomer beside one: a third").isEqualTo(32 * MIB / 3);
        budget.charge(other, 1);
        assertThat(budget.inFlightRoom(alone)).as("over its third while another is in flight").isZero();
        budget.release(alone, 20 * MIB);
        budget.release(other, 1);
        assertThat(budget.inFlight()).isZero();
        assertThat(budget.inFlightRoom(alone)).isEqualTo(32 * MIB);
    }

    /**
     * At a moment when every value is acknowledged, connections stopped for lack of room are read again one after
     * the other: the first must not count itself alone and take everything, or a well-behaved client read after
     * the floods finds no room at all.
     */
    @Test
    void connectionsWaitingForRoomShareItWhenTheyAreReadAgainOneByOne() {
        var floods = new MemoryBudget.Account[8];
        for (int i = 0; i < floods.length; i++) {
            floods[i] = new MemoryBudget.Account();
            budget.waiting(floods[i], true);
        }
        var probe = new MemoryBudget.Account();
        budget.waiting(probe, true);
        for (MemoryBudget.Account flood : floods) {
            budget.waiting(flood, false);
            budget.charge(flood, budget.inFlightRoom(flood));
        }
        assertThat(budget.inFlightRoom(probe)).as("room left for the last one read again")
                .isGreaterThanOrEqualTo(32 * MIB / 10);
    }

    @Test
    void floodsAtTheirShareAlwaysLeaveRoomForANewcomer() {
        var floods = new MemoryBudget.Account[4];
        for (int i = 0; i < floods.length; i++) {
            floods[i] = new MemoryBudget.Account();
            budget.charge(floods[i], 1);
        }
        boolean more = true;
        while (more) {
            more = false;
            for (MemoryBudget.Account flood : floods) {
                long room = budget.inFlightRoom(flood);
                if (room > 0) {
                    budget.charge(flood, room);
                    more = true;
                }
            }
        }
        assertThat(budget.inFlight()).isLessThanOrEqualTo(32 * MIB * 4 / 5);
        assertThat(budget.inFlightRoom(new MemoryBudget.Account())).isGreaterThanOrEqualTo(32 * MIB / 6);
    }

    /**
     * However many bytes are read, a scan that stops as soon as the connection's room is spent takes what is in
     * flight past the limit by at most one value, whatever the bytes are.
     */
    @Test
    void aScanThatStopsWhenTheRoomIsSpentPassesTheLimitByOneValueAtMost() {
        var account = new MemoryBudget.Account();
        for (long charged : new long[] {0, 16 * MIB, 31 * MIB + 12_345, 32 * MIB - 1}) {
            budget.charge(account, charged);
            for (String worst : new String[] {"{}", "x\n", "[" + "{},".repeat(20_000) + "{}]\n"}) {
                byte[] bytes = worst.repeat(Math.max(1, 300_000 / worst.length())).getBytes(StandardCharsets.US_ASCII);
                var scanner = new FrameScanner(MAX_VALUE);
                long before = budget.inFlight();
                int scanned = scanner.scan(bytes, 0, bytes.length, new ChargingSink(budget, account));
                if (charged > 31 * MIB) {
                    assertThat(scanned).as("%s: the scan stops when the room is spent", worst.substring(0, 2))
                            .isLessThan(bytes.length);
                }
                assertThat(budget.inFlight()).as("after %s at %d", worst.substring(0, 2), charged)
                        .isLessThanOrEqualTo(Math.max(before, 32 * MIB) + Footprint.value((byte) '[', MAX_VALUE));
                budget.release(account, budget.inFlight() - before);
            }
            budget.release(account, charged);
        }
    }

    @Test
    void noReadAtAllWithoutRoomInFlightAndNeverMoreThanTheConnectionMayHold() {
        var account = new MemoryBudget.Account();
        assertThat(budget.readLimit(account, 0, 1)).as("nothing the scanner may keep").isZero();
        assertThat(budget.readLimit(account, Long.MAX_VALUE, 1)).as("what it may hold: its reserve and its share")
                .isEqualTo(budget.holdRoom(account)).isGreaterThan(256 * 1024);
        budget.charge(account, 32 * MIB);
        assertThat(budget.readLimit(account, Long.MAX_VALUE, 1)).as("no room in flight").isZero();
        budget.release(account, 32 * MIB);
    }

    /** Bytes read beyond what the room can take would wait unscanned, filling the pool others need to read. */
    @Test
    void aConnectionWhoseInputIsExpensiveIsReadInSmallAmounts() {
        var account = new MemoryBudget.Account();
        budget.charge(account, 32 * MIB - 1024 * 1024);
        assertThat(budget.readLimit(account, Long.MAX_VALUE, 2)).as("cheap values").isEqualTo(512 * 1024);
        assertThat(budget.readLimit(account, Long.MAX_VALUE, 6)).as("readings").isEqualTo(1024 * 1024 / 6);
        assertThat(budget.readLimit(account, Long.MAX_VALUE, 198)).as("{} {} {}: at least MIN_READ")
                .isEqualTo(MemoryBudget.MIN_READ);
    }

    @Test
    void aConnectionAtItsShareIsReadAgainOnceItsOwnValuesAreBackUnderHalfOfIt() {
        var flood = new MemoryBudget.Account();
        var other = new MemoryBudget.Account();
        budget.charge(other, 1);
        budget.charge(flood, 32 * MIB / 3);
        assertThat(budget.inFlightRoom(flood)).isZero();
        assertThat(budget.resumable(flood)).isFalse();
        budget.release(flood, 32 * MIB / 3 - 32 * MIB / 6);
        assertThat(budget.resumable(flood)).as("at half its share").isTrue();
    }

    @Test
    void aConnectionKeepsItsReserveWhenOthersHaveEmptiedThePool() {
        MemoryBudget.Account[] hostile = new MemoryBudget.Account[100];
        for (int i = 0; i < hostile.length; i++) {
            hostile[i] = new MemoryBudget.Account();
            budget.hold(hostile[i], budget.holdRoom(hostile[i]));
        }
        assertThat(budget.heldPool()).isEqualTo(8 * MIB);
        assertThat(budget.holdRoom(hostile[0])).isZero();

        var wellBehaved = new MemoryBudget.Account();
        assertThat(budget.holdRoom(wellBehaved)).isEqualTo(Footprint.RESERVE);
        budget.hold(wellBehaved, 600);
        assertThat(budget.holdRoom(wellBehaved)).isEqualTo(Footprint.RESERVE - 600);
        assertThat(budget.heldPool()).as("a reserve is not the pool's").isEqualTo(8 * MIB);
    }

    @Test
    void oneConnectionMayTakeAnEighthOfThePoolAndAlwaysOneValueOfTheMaximumSize() {
        var greedy = new MemoryBudget.Account();
        assertThat(budget.holdRoom(greedy)).isEqualTo(Footprint.RESERVE + MIB);
        var small = new MemoryBudget(32 * MIB, 1 * MIB, MAX_VALUE);
        assertThat(small.holdRoom(new MemoryBudget.Account())).isGreaterThanOrEqualTo(
                Footprint.RESERVE + Footprint.bytes(MAX_VALUE));
    }

    @Test
    void pausedConnectionsAreAskedAgainOnceEitherPoolIsBackUnderHalf() {
        var account = new MemoryBudget.Account();
        budget.charge(account, 16 * MIB);
        var holders = new MemoryBudget.Account[4];
        for (int i = 0; i < holders.length; i++) {
            holders[i] = new MemoryBudget.Account();
            budget.hold(holders[i], Footprint.RESERVE + MIB);
        }
        assertThat(budget.resumable()).as("both at half").isFalse();
        budget.release(account, 1);
        assertThat(budget.resumable()).as("in flight under half").isTrue();
        budget.charge(account, 1);
        budget.hold(holders[0], 0);
        assertThat(budget.resumable()).as("held under half").isTrue();
    }

    /**
     * The scanner's promise that the budget relies on: scanning {@code maxScan(g)} bytes never grows its partial
     * value's memory by more than g, whatever the bytes and however they are cut.
     */
    @Test
    void theScannerNeverKeepsMoreThanItWasAllowedToGrow() {
        var random = new Random(42);
        for (int round = 0; round < 300; round++) {
            var scanner = new FrameScanner(MAX_VALUE);
            byte[] stream = randomStream(random);
            int at = 0;
            while (at < stream.length) {
                long growth = random.nextInt(4) == 0 ? 0 : random.nextInt(8 * 1024);
                long before = scanner.carryFootprint();
                long scannable = scanner.maxScan(growth);
                if (scannable == 0) {
                    continue;
                }
                int n = (int) Math.min(stream.length - at, Math.min(scannable, 1 + random.nextInt(20_000)));
                scanner.scan(stream, at, at + n, new Ignore());
                at += n;
                assertThat(scanner.carryFootprint()).as("round %d at %d", round, at)
                        .isLessThanOrEqualTo(Math.max(before, Math.min(before + growth,
                                Footprint.bytes(MAX_VALUE))));
            }
        }
    }

    private static byte[] randomStream(Random random) {
        var text = new StringBuilder();
        while (text.length() < 300_000) {
            switch (random.nextInt(4)) {
                case 0 -> text.append("{\"capteur_id\":\"a\",\"temperature\":1}\n");
                case 1 -> text.append("{\"capteur_id\":\"").append("x".repeat(random.nextInt(70_000))).append("\"}");
                case 2 -> text.append("[").append("{},".repeat(random.nextInt(5000))).append("{}]");
                default -> text.append("garbage\n");
            }
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Charges each value as the selector does, and stops the scan when the connection's room is spent. */
    private static final class ChargingSink implements FrameScanner.Sink {
        private final MemoryBudget budget;
        private final MemoryBudget.Account account;

        ChargingSink(MemoryBudget budget, MemoryBudget.Account account) {
            this.budget = budget;
            this.account = account;
        }

        @Override
        public void value(byte[] data, int offset, int length) {
            budget.charge(account, Footprint.value(data[offset], length));
        }

        @Override
        public void rejected(RejectReason reason, String message) {
            budget.charge(account, Footprint.rejectedValue());
        }

        @Override
        public boolean full() {
            return budget.inFlightRoom(account) <= 0;
        }
    }

    private static final class Ignore implements FrameScanner.Sink {
        @Override
        public void value(byte[] data, int offset, int length) {
        }

        @Override
        public void rejected(RejectReason reason, String message) {
        }
    }
}
