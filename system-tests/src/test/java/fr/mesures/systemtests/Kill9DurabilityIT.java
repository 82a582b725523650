package fr.mesures.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import fr.mesures.systemtests.support.AckedStreams;
import fr.mesures.systemtests.support.Database;
import fr.mesures.systemtests.support.Results;
import fr.mesures.systemtests.support.ServeurProcess;
import fr.mesures.systemtests.support.Syscalls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the server while 100 connections stream readings with acks, 24 times on one database: after each
 * restart, every reading acknowledged before the kill is there, exactly once, and nothing that was never sent.
 *
 * <p>The kills are aimed, from outside, by watching the server's writer thread in {@code /proc}: in the fsync of
 * a commit, while it executes (inserting rows into an open transaction), while it waits between commits (clients
 * paced so it is idle part of the time), and a few commits (seen in {@code serveur_store_commit_seconds_count})
 * plus a random delay in. Each cycle records where its kill landed.
 */
class Kill9DurabilityIT {

    private static final int CYCLES = 24;
    private static final int CONNECTIONS = 100;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    private enum Aim { IN_FSYNC, INSERTING, BETWEEN_COMMITS, AFTER_COMMITS_AND_DELAY }

    /** What one cycle did; {@code landedIn} is the writer's system call number at the kill (see Syscalls). */
    private record Cycle(int number, Aim aim, String landedIn, long made, long acked, long stored, long commits) {
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void everyAcknowledgedReadingSurvivesKill9ExactlyOnce() throws Exception {
        long seed = Long.getLong("kill.seed", System.nanoTime());
        Random random = new Random(seed);
        Path db = dir.resolve("mesures.db");
        Database database = new Database(db);
        List<Cycle> cycles = new ArrayList<>();
        long started = System.nanoTime();
        ServeurProcess server = ServeurProcess.with(dir.resolve("serveur.log"), "sqlite:" + db).start();
        try {
            for (int n = 1; n <= CYCLES; n++) {
                Aim aim = Aim.values()[n % Aim.values().length];
                // Paced clients leave the writer idle between commits; full speed keeps it committing.
                Duration interval = aim == Aim.BETWEEN_COMMITS ? Duration.ofMillis(50) : Duration.ZERO;
                AckedStreams.Plan plan = AckedStreams.Plan.of("k" + n, CONNECTIONS).window(1000).interval(interval)
                        .firstTimestamp(1_700_000_000_000L + n * 10_000_000L);
                List<AckedStreams.State> states;
                String landedIn;
                long commits;
                try (AckedStreams clients = plan.open(server.port())) {
                    ServeurProcess running = server;
                    // Something of this cycle is committed and acknowledged before the kill.
                    await().atMost(Duration.ofSeconds(60)).until(() -> clients.acked() >= 2L * CONNECTIONS);
                    commits = running.metrics().count("serveur_store_commit_seconds_count");
                    landedIn = aimAndKill(running, aim, commits, random);
                    await().atMost(Duration.ofSeconds(30)).until(clients::allEnded);
                    states = clients.states();
                }
                server = server.restart();
                cycles.add(check(database, n, aim, landedIn, commits, states));
                // The whole database, not only this cycle's sensors: a row from nowhere, or an earlier cycle's row
                // lost to this kill, changes the total.
                assertThat(database.count()).as("rows after cycle %d: what the cycles so far stored", n)
                        .isEqualTo(cycles.stream().mapToLong(Cycle::stored).sum());
            }
            assertThat(database.integrityCheck()).isEqualTo("ok");
        } finally {
            server.close();
        }
        report(cycles, seed, System.nanoTime() - started);
    }

    /** Waits for the aimed moment, then SIGKILL; returns the writer's system call at that moment. */
    private static String aimAndKill(ServeurProcess server, Aim aim, long commits, Random random)
            throws Exception {
        String syscall = "?";
        ServeurProcess.WriterThread writer = server.writerThread();
        if (aim == Aim.AFTER_COMMITS_AND_DELAY || !Syscalls.X86_64) {
            long target = commits + 1 + random.nextInt(5);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                    .until(() -> server.metrics().count("serveur_store_commit_seconds_count") >= target);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(random.nextInt(60)));
            syscall = writer.syscall();
        } else {
            // Watch the writer for up to 10 s; kill the moment it is where we aim (or give up aiming). A state
            // lasts microseconds to milliseconds, so this polls without sleeping, reading only the writer's file.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() - deadline < 0) {
                syscall = writer.syscall();
                boolean there = switch (aim) {
                    case IN_FSYNC -> Syscalls.syncing(syscall);
                    // Executing (in SQLite's native code, mostly): rows going into an open transaction.
                    case INSERTING -> syscall.equals("running");
                    case BETWEEN_COMMITS -> Syscalls.waiting(syscall);
                    default -> true;
                };
                if (there) {
                    break;
                }
                Thread.onSpinWait();
            }
        }
        server.kill();
        return syscall;
    }

    /**
     * After the restart: each connection's sensor holds a prefix of what it made (commits keep a connection's
     * order), at least every acknowledged reading, at most what was made, each once with its own temperature.
     */
    private static Cycle check(Database database, int n, Aim aim, String landedIn, long commits,
            List<AckedStreams.State> states) {
        long made = 0;
        long acked = 0;
        long stored = 0;
        for (AckedStreams.State s : states) {
            assertThat(s.errors()).as("error lines to %s", s.capteurId()).isEmpty();
            List<Database.Row> rows = database.rows(s.capteurId());
            for (int i = 0; i < rows.size(); i++) {
                Database.Row row = rows.get(i);
                assertThat(row.timestamp()).as("cycle %d, %s: row %d of %d (a hole or a stranger)", n,
                        s.capteurId(), i, rows.size()).isEqualTo(s.firstTimestamp() + i);
                assertThat(row.temperature()).isEqualTo(AckedStreams.temperature(i));
            }
            assertThat((long) rows.size()).as("cycle %d, %s: stored vs acknowledged (%s)", n, s.capteurId(), s)
                    .isGreaterThanOrEqualTo(s.acked())
                    .isLessThanOrEqualTo(s.produced());
            made += s.produced();
            acked += s.acked();
            stored += rows.size();
        }
        assertThat(acked).as("cycle %d acknowledged something", n).isPositive();
        return new Cycle(n, aim, landedIn, made, acked, stored, commits);
    }

    private static void report(List<Cycle> cycles, long seed, long nanos) {
        for (Cycle c : cycles) {
            Results.record("kill9", String.format("cycle %2d aim %-24s landed in %-10s made %7d acked %7d "
                    + "stored %7d (committed, ack lost with the process: %d)", c.number(), c.aim(),
                    Syscalls.name(c.landedIn()), c.made(), c.acked(), c.stored(), c.stored() - c.acked()));
        }
        long inCommit = cycles.stream().filter(c -> Syscalls.inCommit(c.landedIn())).count();
        long waiting = cycles.stream().filter(c -> Syscalls.waiting(c.landedIn())).count();
        Results.record("kill9", String.format("%d kill -9 cycles x %d connections in %.0f s (seed %d): %d acked, "
                + "all present once; kills inside a commit's write or fsync: %d, with the writer waiting: %d, "
                + "elsewhere: %d", cycles.size(), CONNECTIONS, nanos / 1e9, seed,
                cycles.stream().mapToLong(Cycle::acked).sum(), inCommit, waiting,
                cycles.size() - inCommit - waiting));
        // The aim is the point of varying the kills: make sure it really varied.
        if (Syscalls.X86_64) {
            assertThat(inCommit).as("kills that landed inside a commit").isGreaterThanOrEqualTo(3);
        }
    }
}
