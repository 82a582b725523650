package fr.mesures.systemtests.support;

import java.util.Map;

/** Names of the x86-64 system calls a SQLite writer blocks in, to say where a kill landed. */
public final class Syscalls {

    public static final boolean X86_64 = System.getProperty("os.arch").equals("amd64");

    private static final Map<String, String> NAMES = Map.of("0", "read", "1", "write", "17", "pread64",
            "18", "pwrite64", "74", "fsync", "75", "fdatasync", "202", "futex", "running", "running");

    private Syscalls() {
    }

    public static String name(String number) {
        return NAMES.getOrDefault(number, "syscall " + number);
    }

    /** Writing the WAL or forcing it to disk: inside a commit. */
    public static boolean inCommit(String number) {
        return number.equals("1") || number.equals("18") || number.equals("74") || number.equals("75");
    }

    public static boolean syncing(String number) {
        return number.equals("74") || number.equals("75");
    }

    /** Parked on a lock or condition: the writer waits for the next batch, between commits. */
    public static boolean waiting(String number) {
        return number.equals("202");
    }
}
