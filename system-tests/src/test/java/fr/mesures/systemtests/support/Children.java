package fr.mesures.systemtests.support;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every process the tests start. Tests stop their processes themselves (by handle, in finally blocks); this is
 * the safety net for a test JVM that is interrupted or a test that fails half-way: a shutdown hook kills what is
 * left, by PID, so no server outlives the build on a shared machine.
 */
public final class Children {

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }), "system-tests-reaper"));
    }

    private Children() {
    }

    public static Process start(ProcessBuilder builder) throws IOException {
        Process process = builder.start();
        LIVE.add(process);
        process.onExit().thenRun(() -> LIVE.remove(process));
        return process;
    }
}
