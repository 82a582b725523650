package fr.mesures.bench.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Where a JFR recording says the CPU went, per thread: the execution samples (threads running Java code) and
 * native method samples (threads inside JNI, such as SQLite) of each thread group, with the top methods by self
 * samples (the frame on top) and by total samples (anywhere in the stack).
 *
 * <p>Worker threads {@code serveur-worker-1..n} are one group. A sample is one observation of a thread, taken
 * every period (bench/profile.sh: 1 ms for threads in Java code, 20 ms for threads in native code); each sample
 * counts for its period, so Java and native samples add up to sampled time. A native sample is taken whether the
 * thread runs or waits in native code; the CPU seconds per thread come from /proc (profile.sh prints both).
 */
@Command(name = "jfr", mixinStandardHelpOptions = true,
        description = "Summarises the CPU samples of a JFR recording per thread group.")
public final class JfrSummary implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "RECORDING")
    Path recording;

    @Option(names = "--top", defaultValue = "12", description = "methods listed per thread (default ${DEFAULT-VALUE})")
    int top;

    @Option(names = "--min-share", defaultValue = "0.5",
            description = "leave out thread groups with less than this % of all samples (default ${DEFAULT-VALUE})")
    double minShare;

    @Override
    public Integer call() throws IOException {
        Map<String, Group> groups = new TreeMap<>();
        List<RecordedEvent> events = RecordingFile.readAllEvents(recording);
        // A Java sample stands for its period (1 ms at method-profiling=max), a native one for its own (20 ms):
        // weigh each by its period, read from the recording's settings, so both kinds add up to time.
        long javaPeriod = period(events, "jdk.ExecutionSample", 10);
        long nativePeriod = period(events, "jdk.NativeMethodSample", 20);
        long all = 0;
        for (RecordedEvent e : events) {
            String type = e.getEventType().getName();
            boolean nativeSample = type.equals("jdk.NativeMethodSample");
            if (!nativeSample && !type.equals("jdk.ExecutionSample")) {
                continue;
            }
            if (e.getThread("sampledThread") == null || e.getStackTrace() == null) {
                continue;
            }
            String thread = group(e.getThread("sampledThread").getJavaName());
            long weight = nativeSample ? nativePeriod : javaPeriod;
            groups.computeIfAbsent(thread, Group::new).add(e.getStackTrace(), nativeSample, weight);
            all += weight;
        }
        System.out.printf(Locale.ROOT, "%s: Java samples every %d ms, native every %d ms; each sample weighs its"
                + " period, so the figures below are sampled milliseconds (%,d in all)%n", recording, javaPeriod,
                nativePeriod, all);
        List<Group> sorted = new ArrayList<>(groups.values());
        sorted.sort((a, b) -> Long.compare(b.samples, a.samples));
        for (Group g : sorted) {
            double share = 100.0 * g.samples / Math.max(1, all);
            if (share < minShare) {
                continue;
            }
            long busy = g.samples - g.idle;
            System.out.printf(Locale.ROOT, "%n== %s: %,d ms sampled (%.1f%% of all; %,d in Java, %,d in native code,"
                            + " of which %,d waiting in %s); percentages of the %,d ms not waiting:%n",
                    g.name, g.samples, share, g.samples - g.nativeSamples, g.nativeSamples, g.idle,
                    "EPoll.wait, park, sleep", busy);
            if (busy == 0) {
                continue;
            }
            System.out.println("   self (top frame):");
            print(g.self, busy);
            System.out.println("   total (anywhere in the stack):");
            print(g.total, busy);
        }
        return 0;
    }

    /** The sampling period of an event type in this recording (jdk.ActiveSetting), in ms. */
    static long period(List<RecordedEvent> events, String eventType, long fallback) {
        Map<Long, String> types = new HashMap<>();
        long result = -1;
        for (RecordedEvent e : events) {
            if (!e.getEventType().getName().equals("jdk.ActiveSetting") || !"period".equals(e.getString("name"))) {
                continue;
            }
            types.put(e.getLong("id"), e.getString("value"));
        }
        for (RecordedEvent e : events) {
            if (e.getEventType().getName().equals(eventType)) {
                String value = types.get(e.getEventType().getId());
                if (value != null) {
                    result = parseMillis(value);
                }
                break;
            }
        }
        return result > 0 ? result : fallback;
    }

    /** "1 ms", "20 ms", "1 s". */
    static long parseMillis(String value) {
        String[] parts = value.trim().split("\\s+");
        try {
            long n = Long.parseLong(parts[0]);
            String unit = parts.length > 1 ? parts[1] : "ms";
            return switch (unit) {
                case "ns" -> Math.max(1, n / 1_000_000);
                case "us" -> Math.max(1, n / 1_000);
                case "s" -> n * 1_000;
                default -> n;
            };
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void print(Map<String, Long> counts, long samples) {
        counts.entrySet().stream()
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .limit(top)
                .forEach(e -> System.out.printf(Locale.ROOT, "   %5.1f%%  %,7d ms  %s%n",
                        100.0 * e.getValue() / samples, e.getValue(), e.getKey()));
    }

    /** serveur-worker-2 → serveur-worker-*; other names stay. */
    static String group(String thread) {
        if (thread == null) {
            return "?";
        }
        return thread.replaceAll("-\\d+$", "-*").replaceAll("#\\d+$", "#*");
    }

    static String method(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        int dot = type.lastIndexOf('.');
        return type.substring(dot + 1) + "." + f.getMethod().getName()
                + (f.getType() != null && f.getType().equals("Native") ? " [native]" : "");
    }

    /** Top frames of a thread that waits (a native sample is taken whether the thread runs or waits). */
    static final Set<String> IDLE = Set.of("EPoll.wait [native]", "Unsafe.park [native]", "Object.wait [native]",
            "Thread.sleep [native]", "Net.accept [native]", "Net.poll [native]");

    /** One thread group's samples. */
    private static final class Group {
        final String name;
        long samples;
        long nativeSamples;
        long idle;
        final Map<String, Long> self = new HashMap<>();
        final Map<String, Long> total = new HashMap<>();

        Group(String name) {
            this.name = name;
        }

        void add(RecordedStackTrace stack, boolean nativeSample, long weight) {
            samples += weight;
            if (nativeSample) {
                nativeSamples += weight;
            }
            List<RecordedFrame> frames = stack.getFrames();
            if (frames.isEmpty()) {
                return;
            }
            String top = method(frames.get(0));
            if (IDLE.contains(top)) {
                idle += weight;
                return;
            }
            self.merge(top, weight, Long::sum);
            Set<String> seen = new HashSet<>();
            for (RecordedFrame f : frames) {
                String m = method(f);
                if (seen.add(m)) {
                    total.merge(m, weight, Long::sum);
                }
            }
        }
    }
}
