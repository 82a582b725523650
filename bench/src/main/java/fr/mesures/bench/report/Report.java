package fr.mesures.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * Turns the measurements of one bench/run.sh run (a JSON-lines file) into the results tables: every run with its
 * ratio to the physical limit measured in the same run, the limits themselves, the targets with PASS or
 * FAIL, and where the server's CPU went by thread.
 *
 * <p>Lines, each a JSON object with a {@code kind}:
 * <ul>
 *   <li>{@code server}: one load against the serveur: {@code store}, {@code charge} (the load generator's JSON
 *       line, which says how many readings over how many connections at what rate), {@code server_cpu_s},
 *       {@code rss_peak_kb}, {@code stored} (rows counted in the store afterwards, less the warm-up's),
 *       {@code threads_cpu_s};</li>
 *   <li>{@code import}: the sqlite3 shell importing the same rows: {@code readings}, {@code seconds},
 *       {@code stored};</li>
 *   <li>{@code raw}: the same bytes sent to socat: {@code target} ({@code file} or {@code null}), {@code charge},
 *       {@code file_bytes}.</li>
 * </ul>
 * A {@code server} line over TLS has {@code "tls": true} in its {@code charge} line, and may have
 * {@code server_counts} (the server's own counts of TLS connections accepted, handshakes done, connections refused
 * and handshakes failed by reason, from its /metrics); one whose {@code charge.mode} is {@code handshakes} sent no
 * readings and timed handshakes alone: it has its own table.
 * What a load was (readings, connections, sensors, rate) is read from its {@code charge} line only: a copy
 * beside it could say something else.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Prints the results tables (Markdown) of a bench/run.sh measurements file.")
public final class Report implements Callable<Integer> {

    /** Readings/s at 1,000,000 over 100 connections, file store. */
    static final double FILE_TARGET_PER_S = 800_000;
    static final double SQLITE_VS_IMPORT = 0.8;
    static final double FILE_VS_RAW = 0.5;
    /** "No slower than the C = 100 figure by more than 30 %": readings/s at C = 1,000 at least 70 % of C = 100. */
    static final double MANY_CONNECTIONS_VS_100 = 0.7;
    static final double P99_MS = 50;
    static final double RSS_MB = 300;
    static final double LINEAR_FACTOR = 4.5;
    /** TLS readings/s at 1,000,000 over 100 connections, at least this much of the plaintext figure of the run. */
    static final double TLS_VS_PLAINTEXT = 0.6;

    @Parameters(index = "0", paramLabel = "MEASUREMENTS", description = "the JSON-lines file run.sh wrote")
    Path measurements;

    @Override
    public Integer call() throws IOException {
        List<Map<String, Object>> lines = new ArrayList<>();
        for (String line : Files.readAllLines(measurements, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                lines.add(Json.object(line));
            }
        }
        Result result = build(lines);
        System.out.print(result.markdown());
        return result.allPass() ? 0 : 1;
    }

    /** The tables and whether every target passed. */
    record Result(String markdown, List<Target> targets) {
        boolean allPass() {
            return targets.stream().allMatch(t -> t.pass);
        }
    }

    /** One target of the issue: what it asks, what was measured, and whether it is met. */
    record Target(String what, String measured, String bar, boolean pass) {
    }

    static Result build(List<Map<String, Object>> all) {
        Map<String, List<Map<String, Object>>> byName = new LinkedHashMap<>();
        for (Map<String, Object> l : all) {
            byName.computeIfAbsent(String.valueOf(l.get("name")), n -> new ArrayList<>()).add(l);
        }
        // One line per measurement: the median repetition (by throughput), so all its columns come from one run.
        List<Map<String, Object>> lines = new ArrayList<>();
        Map<String, String> spreads = new LinkedHashMap<>();
        for (Map.Entry<String, List<Map<String, Object>>> g : byName.entrySet()) {
            List<Map<String, Object>> reps = new ArrayList<>(g.getValue());
            reps.sort((a, b) -> Double.compare(rate(a), rate(b)));
            lines.add(reps.get(reps.size() / 2));
            if (reps.size() > 1) {
                spreads.put(g.getKey(), " (" + count(rate(reps.get(0))) + "–" + count(rate(reps.get(reps.size() - 1)))
                        + ")");
            }
        }
        Map<String, Object> sqlite1M = named(lines, "sqlite_1m_100");
        Map<String, Object> sqlite200k = named(lines, "sqlite_200k_1000");
        Map<String, Object> sqlite4M = named(lines, "sqlite_4m_100");
        Map<String, Object> file1M = named(lines, "file_1m_100");
        Map<String, Object> file200k = named(lines, "file_200k_1000");
        Map<String, Object> many = named(lines, "sqlite_10k_rate");
        Map<String, Object> import1M = named(lines, "import_1m");
        Map<String, Object> tls1M = named(lines, "tls_sqlite_1m_100");
        String referenceHeap = sqlite1M == null ? null : Json.string(sqlite1M, "heap");
        // A limit is a yardstick only if every repetition of it did all its work: which ones cannot be trusted.
        Map<String, String> invalid = new LinkedHashMap<>();
        for (Map.Entry<String, List<Map<String, Object>>> g : byName.entrySet()) {
            String problem = limitProblem(g.getValue());
            if (problem != null) {
                invalid.put(g.getKey(), problem);
            }
        }

        StringBuilder md = new StringBuilder();
        md.append("| run | readings | connections | to last ack (s) | readings/s | ack latency p50 / p99 / max (ms)"
                + " | server CPU (s) | CPU per reading (µs) | peak RSS (MB) | stored | vs limit |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (Map<String, Object> l : lines) {
            if (!"server".equals(l.get("kind")) || handshakesOnly(l)) {
                continue;
            }
            double readings = readings(l);
            double rate = ratePerConnection(l);
            String store = Json.string(l, "store");
            String name = store + (tls(l) ? " over TLS" : "")
                    + (rate > 0 ? ", " + fmt(rate, 0) + " reading/s per connection" : ", full speed")
                    + ("fire-and-forget".equals(stringAt(l, "charge", "mode")) ? ", fire-and-forget" : "")
                    + heapNote(l, referenceHeap);
            String vsLimit = "";
            double perS = Json.number(l, "charge.readings_per_s");
            if (tls(l)) {
                Map<String, Object> plain = l == tls1M ? sqlite1M : null;
                if (plain != null) {
                    vsLimit = fmt(perS / perS(plain), 2) + " × plaintext, same run";
                }
            } else if (rate <= 0 && "sqlite".equals(store)) {
                Map<String, Object> imp = l == sqlite4M ? named(lines, "import_4m") : import1M;
                if (imp != null) {
                    vsLimit = fmt(perS / importRate(imp), 2) + " × sqlite3 .import of "
                            + count(Json.number(imp, "readings")) + notValid(invalid, imp);
                }
            } else if (rate <= 0 && "file".equals(store)) {
                Map<String, Object> raw = l == file1M ? named(lines, "raw_file_100")
                        : l == file200k ? named(lines, "raw_file_1000") : null;
                if (raw != null) {
                    vsLimit = fmt(perS / Json.number(raw, "charge.readings_per_s"), 2) + " × raw TCP-to-file"
                            + notValid(invalid, raw);
                }
            }
            double cpu = Json.number(l, "server_cpu_s");
            md.append("| ").append(name)
                    .append(" | ").append(count(readings))
                    .append(" | ").append(count(connections(l)))
                    .append(" | ").append(fmt(Json.number(l, "charge.elapsed_s"), 2))
                    .append(" | ").append(count(perS)).append(spreads.getOrDefault(Json.string(l, "name"), ""))
                    .append(" | ").append(fmt(Json.number(l, "charge.latency_ms.p50"), 1)).append(" / ")
                    .append(fmt(Json.number(l, "charge.latency_ms.p99"), 1)).append(" / ")
                    .append(fmt(Json.number(l, "charge.latency_ms.max"), 1))
                    .append(" | ").append(fmt(cpu, 2))
                    .append(" | ").append(fmt(cpu / readings * 1e6, 2))
                    .append(" | ").append(fmt(Json.number(l, "rss_peak_kb") / 1024, 0)).append(rssScope(l))
                    .append(" | ").append(count(Json.number(l, "stored")))
                    .append(" | ").append(vsLimit).append(" |\n");
        }

        md.append("\nPhysical limits, same machine, same run, same rows:\n\n");
        md.append("| limit | rows | connections | time (s) | rows/s | every row there |\n"
                + "|---|---:|---:|---:|---:|---|\n");
        for (Map<String, Object> l : lines) {
            if ("import".equals(l.get("kind"))) {
                md.append("| sqlite3 shell `.import` into `mesures` (").append(Json.string(l, "detail"))
                        .append(") | ").append(count(Json.number(l, "readings"))).append(" | – | ")
                        .append(fmt(Json.number(l, "seconds"), 2)).append(" | ").append(count(importRate(l)))
                        .append(spreads.getOrDefault(Json.string(l, "name"), "")).append(" | ")
                        .append(checked(invalid, l)).append(" |\n");
            } else if ("raw".equals(l.get("kind"))) {
                boolean file = "file".equals(Json.string(l, "target"));
                String target = file
                        ? "raw TCP-to-file: socat, one process per connection, appending to one file (no fsync)"
                        : "load generator ceiling: socat to /dev/null";
                double elapsed = Json.number(l, "charge.elapsed_s");
                double readings = readings(l);
                md.append("| ").append(target).append(" | ").append(count(readings))
                        .append(" | ").append(count(connections(l))).append(" | ")
                        .append(fmt(elapsed, 2)).append(" | ")
                        .append(count(Json.number(l, "charge.readings_per_s")))
                        .append(spreads.getOrDefault(Json.string(l, "name"), "")).append(" | ")
                        .append(checked(invalid, l)).append(" |\n");
                if (file) {
                    double withSync = elapsed + Json.number(l, "fsync_s");
                    md.append("| the same, plus one fsync of the file at the end | ").append(count(readings))
                            .append(" | ").append(count(connections(l))).append(" | ")
                            .append(fmt(withSync, 2)).append(" | ").append(count(readings / withSync))
                            .append(" | ").append(checked(invalid, l)).append(" |\n");
                }
            }
        }

        List<Target> targets = new ArrayList<>();
        if (sqlite1M != null && import1M != null && invalid.containsKey("import_1m")) {
            targets.add(new Target("SQLite, 1,000,000 / 100, acked after commit, vs sqlite3 `.import`",
                    "the import is no yardstick: " + invalid.get("import_1m"), "≥ " + SQLITE_VS_IMPORT + " ×",
                    false));
        } else if (sqlite1M != null && import1M != null) {
            double ratio = perS(sqlite1M) / importRate(import1M);
            targets.add(new Target("SQLite, 1,000,000 / 100, acked after commit, vs sqlite3 `.import`",
                    count(perS(sqlite1M)) + "/s = " + fmt(ratio, 2) + " × " + count(importRate(import1M)) + "/s",
                    "≥ " + SQLITE_VS_IMPORT + " ×", ratio >= SQLITE_VS_IMPORT));
        } else {
            targets.add(missing("SQLite, 1,000,000 / 100, vs sqlite3 `.import`"));
        }
        if (file1M != null) {
            targets.add(new Target("File, 1,000,000 / 100", count(perS(file1M)) + "/s",
                    "≥ " + count(FILE_TARGET_PER_S) + "/s", perS(file1M) >= FILE_TARGET_PER_S));
            Map<String, Object> raw = named(lines, "raw_file_100");
            if (raw != null && invalid.containsKey("raw_file_100")) {
                targets.add(new Target("File, 1,000,000 / 100, vs raw TCP-to-file over 100 connections",
                        "raw TCP-to-file is no yardstick: " + invalid.get("raw_file_100"), "≥ " + FILE_VS_RAW + " ×",
                        false));
            } else if (raw != null) {
                double rawRate = Json.number(raw, "charge.readings_per_s");
                double ratio = perS(file1M) / rawRate;
                targets.add(new Target("File, 1,000,000 / 100, vs raw TCP-to-file over 100 connections",
                        fmt(ratio, 2) + " × " + count(rawRate) + "/s", "≥ " + FILE_VS_RAW + " ×",
                        ratio >= FILE_VS_RAW));
            } else {
                targets.add(missing("File vs raw TCP-to-file"));
            }
        } else {
            targets.add(missing("File, 1,000,000 / 100"));
        }
        targets.add(manyConnections("SQLite", sqlite200k, sqlite1M));
        targets.add(manyConnections("File", file200k, file1M));
        if (many != null) {
            int c = (int) connections(many);
            double held = Json.number(many, "charge.held");
            double errors = Json.number(many, "charge.errors");
            boolean allAcked = Json.number(many, "charge.acked_readings") == readings(many);
            targets.add(new Target(count(c) + " connections at " + fmt(ratePerConnection(many), 0)
                    + " reading/s each: all held",
                    count(held) + " held, " + count(errors) + " errors, " + (allAcked ? "all" : "NOT all")
                            + " acked", "all " + count(c), held == c && errors == 0 && allAcked));
            double p99 = Json.number(many, "charge.latency_ms.p99");
            targets.add(new Target(count(c) + " connections: p99 ack latency", fmt(p99, 1) + " ms" + sendLag(many),
                    "< " + fmt(P99_MS, 0) + " ms", p99 < P99_MS));
        } else {
            targets.add(missing("10,000 connections at 1 reading/s"));
        }
        for (Map<String, Object> run : new Map[] {sqlite1M, file1M}) {
            if (run != null) {
                // A peak since the server started (the warm-up's included) is at least that of the load: a pass
                // still holds, a fail may be the warm-up's; the figure says which it is.
                double mb = Json.number(run, "rss_peak_kb") / 1024;
                targets.add(new Target("Peak RSS, " + Json.string(run, "store") + " 1,000,000 / 100 (heap "
                        + Json.string(run, "heap") + ")", fmt(mb, 0) + " MB" + rssScope(run),
                        "< " + fmt(RSS_MB, 0) + " MB", mb < RSS_MB));
            }
        }
        if (sqlite1M != null && sqlite4M != null) {
            double factor = Json.number(sqlite4M, "charge.elapsed_s") / Json.number(sqlite1M, "charge.elapsed_s");
            targets.add(new Target("Linear: SQLite 4,000,000 / 100 time vs 1,000,000 / 100",
                    fmt(factor, 2) + " ×", "≤ " + LINEAR_FACTOR + " ×", factor <= LINEAR_FACTOR));
        } else {
            targets.add(missing("Linear: 4,000,000 vs 1,000,000"));
        }
        boolean allStored = true;
        StringBuilder notStored = new StringBuilder();
        for (Map<String, Object> l : all) {
            // Where connections were refused, their readings were never sent: what was acknowledged must be there.
            double expected = Json.number(l, "charge.held") < connections(l) ? Json.number(l, "charge.acked_readings")
                    : readings(l);
            if ("server".equals(l.get("kind")) && Json.number(l, "stored") != expected) {
                allStored = false;
                notStored.append(' ').append(Json.string(l, "store")).append(' ').append(count(readings(l)));
            }
        }
        targets.add(new Target("Every reading of every measurement stored (counted in the store; with connections"
                + " refused, every reading acknowledged)", allStored ? "all" : "missing in" + notStored, "all",
                allStored));
        tlsTargets(targets, lines, sqlite1M, tls1M, referenceHeap);

        md.append("\nTargets (issue 5):\n\n| target | measured | bar | result |\n|---|---|---|---|\n");
        for (Target t : targets) {
            md.append("| ").append(t.what).append(" | ").append(t.measured).append(" | ").append(t.bar)
                    .append(" | ").append(t.pass ? "PASS" : "**FAIL**").append(" |\n");
        }

        handshakeTable(md, lines);

        md.append("\nServer CPU by thread during each load (s; \"TLS\": the serveur-tls threads, which do the"
                + " handshakes' key exchange and signature; \"exited\": threads that ended during the load, whose"
                + " CPU the process counts but no live thread shows):\n\n");
        md.append("| run | selector | workers | writer | TLS | GC | JIT | other | exited | total |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Map<String, Object> l : lines) {
            if (!"server".equals(l.get("kind")) || !(l.get("threads_cpu_s") instanceof List)) {
                continue;
            }
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> threads = (List<Map<String, Object>>) l.get("threads_cpu_s");
            Map<String, Double> groups = groupThreads(threads);
            double cpu = Json.number(l, "server_cpu_s");
            md.append("| ").append(Json.string(l, "store")).append(tls(l) ? " TLS " : " ");
            if (handshakesOnly(l)) {
                md.append(count(connections(l))).append(" handshakes, ")
                        .append(count(Math.min(connections(l), Json.number(l, "charge.connect_in_flight"))))
                        .append(" at once");
            } else {
                md.append(count(readings(l))).append(" / ").append(count(connections(l)));
            }
            md.append(heapNote(l, referenceHeap));
            double attributed = 0;
            for (double v : groups.values()) {
                md.append(" | ").append(fmt(v, 2));
                attributed += v;
            }
            md.append(" | ").append(fmt(cpu - attributed, 2)).append(" | ").append(fmt(cpu, 2)).append(" |\n");
        }
        return new Result(md.toString(), targets);
    }

    /**
     * The CPU of each thread (one entry per thread id: {@code tid}, {@code name} as /proc shows it, 15 characters at
     * most, so several threads may share one, and {@code cpu_s}) into selector, workers, writer, TLS, GC, JIT,
     * other.
     */
    static Map<String, Double> groupThreads(List<Map<String, Object>> threads) {
        Map<String, Double> groups = new LinkedHashMap<>();
        for (String g : List.of("selector", "workers", "writer", "TLS", "GC", "JIT", "other")) {
            groups.put(g, 0.0);
        }
        for (Map<String, Object> thread : threads) {
            String n = String.valueOf(thread.get("name"));
            double v = Json.number(thread, "cpu_s");
            String g;
            if (n.startsWith("serveur-selec")) {
                g = "selector";
            } else if (n.startsWith("serveur-worker")) {
                g = "workers";
            } else if (n.startsWith("serveur-writer")) {
                g = "writer";
            } else if (n.startsWith("serveur-tls")) {
                g = "TLS";
            } else if (n.startsWith("GC ") || n.startsWith("G1 ") || n.startsWith("VM Thread")
                    || n.startsWith("Parallel") || n.startsWith("ZGC")) {
                g = "GC";
            } else if (n.startsWith("C1 ") || n.startsWith("C2 ")) {
                g = "JIT";
            } else {
                g = "other";
            }
            groups.merge(g, v, Double::sum);
        }
        return groups;
    }

    /**
     * The TLS targets: the TLS rate against the plaintext one of the same run, and the 10,000 TLS connections at 1
     * reading/s, at the run's heap and (if measured, after refusals there) at a larger one.
     */
    private static void tlsTargets(List<Target> targets, List<Map<String, Object>> lines, Map<String, Object> plain,
            Map<String, Object> tls, String referenceHeap) {
        String what = "TLS, SQLite 1,000,000 / 100, acked after commit, vs plaintext of the same run";
        if (plain != null && tls != null) {
            double ratio = perS(tls) / perS(plain);
            targets.add(new Target(what, count(perS(tls)) + "/s = " + fmt(ratio, 2) + " × " + count(perS(plain))
                    + "/s", "≥ " + TLS_VS_PLAINTEXT + " ×", ratio >= TLS_VS_PLAINTEXT));
        } else {
            targets.add(missing(what));
        }
        boolean any = false;
        for (String name : List.of("tls_10k_rate", "tls_10k_rate_large")) {
            Map<String, Object> many = named(lines, name);
            if (many == null) {
                continue;
            }
            any = true;
            int c = (int) connections(many);
            String heap = " (heap " + Json.string(many, "heap") + ")";
            double held = Json.number(many, "charge.held");
            double errors = Json.number(many, "charge.errors");
            boolean allAcked = Json.number(many, "charge.acked_readings") == readings(many);
            String refused = Json.value(many, "server_counts.refused") == null ? ""
                    : ", " + count(Json.number(many, "server_counts.refused")) + " refused by the server";
            targets.add(new Target(count(c) + " TLS connections at " + fmt(ratePerConnection(many), 0)
                    + " reading/s each: all held" + heap,
                    count(held) + " held" + refused + ", " + count(errors) + " errors, "
                            + (allAcked ? "all" : "NOT all") + " acked", "all " + count(c),
                    held == c && errors == 0 && allAcked));
            double p99 = Json.number(many, "charge.latency_ms.p99");
            targets.add(new Target(count(c) + " TLS connections: p99 ack latency" + heap, fmt(p99, 1) + " ms"
                    + (held < c ? " over the " + count(held) + " held" : "") + sendLag(many),
                    "< " + fmt(P99_MS, 0) + " ms", p99 < P99_MS));
        }
        if (!any) {
            targets.add(missing("10,000 TLS connections at 1 reading/s"));
        }
    }

    /** The handshake storms: how many handshakes were done, refused or failed, and how long they took. */
    private static void handshakeTable(StringBuilder md, List<Map<String, Object>> lines) {
        List<Map<String, Object>> storms = lines.stream()
                .filter(l -> "server".equals(l.get("kind")) && handshakesOnly(l)).toList();
        if (storms.isEmpty()) {
            return;
        }
        md.append("\nTLS handshakes (each a full handshake; every connection held until all are settled; \"at once\":"
                + " connections opened and handshaking at a time, at most; done: by the server's count, and in brackets"
                + " the generator's where it differs (a handshake the generator finished but the server timed out"
                + " first); handshakes/s: done / last handshake done; times from the load generator, on the same cores"
                + " as the server; handshake: from the generator's ClientHello to handshake done, the generator"
                + " starting at most 32 a round in the order their TCP came up):\n\n");
        md.append("| heap | connections | at once | handshakes done | refused by the server | failed (server's reason)"
                + " | all settled (s) | last handshake done (s) | handshakes/s | handshake p50 / p99 / max (ms)"
                + " | server CPU (s) | generator CPU (s) | peak RSS (MB) |\n");
        md.append("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Map<String, Object> l : storms) {
            StringBuilder failed = new StringBuilder();
            if (Json.value(l, "server_counts.handshake_failures") instanceof Map<?, ?> reasons) {
                for (Map.Entry<?, ?> e : reasons.entrySet()) {
                    if (e.getValue() instanceof Number n && n.doubleValue() > 0) {
                        failed.append(failed.length() == 0 ? "" : ", ").append(count(n.doubleValue())).append(' ')
                                .append(e.getKey());
                    }
                }
            }
            double refused = Json.number(l, "server_counts.refused");
            double byGenerator = Json.number(l, "charge.connected");
            double byServer = Json.number(l, "server_counts.tls_handshakes");
            double done = Double.isNaN(byServer) ? byGenerator : byServer;
            double lastDone = Json.number(l, "charge.last_ready_s");
            md.append("| ").append(Json.string(l, "heap"))
                    .append(" | ").append(count(connections(l)))
                    .append(" | ").append(count(Math.min(connections(l), Json.number(l, "charge.connect_in_flight"))))
                    .append(" | ").append(count(done)).append(done == byGenerator ? "" : " (" + count(byGenerator) + ")")
                    .append(" | ").append(Double.isNaN(refused) ? "?" : count(refused))
                    .append(" | ").append(failed.length() == 0 ? "none" : failed)
                    .append(" | ").append(fmt(Json.number(l, "charge.connect_s"), 2))
                    .append(" | ").append(fmt(lastDone, 2))
                    .append(" | ").append(lastDone > 0 ? count(done / lastDone) : "–")
                    .append(" | ").append(fmt(Json.number(l, "charge.tls_handshake_ms.p50"), 1)).append(" / ")
                    .append(fmt(Json.number(l, "charge.tls_handshake_ms.p99"), 1)).append(" / ")
                    .append(fmt(Json.number(l, "charge.tls_handshake_ms.max"), 1))
                    .append(" | ").append(fmt(Json.number(l, "server_cpu_s"), 2))
                    .append(" | ").append(fmt(Json.number(l, "charge.generator_cpu_s"), 2))
                    .append(" | ").append(fmt(Json.number(l, "rss_peak_kb") / 1024, 0)).append(rssScope(l))
                    .append(" |\n");
        }
    }

    /**
     * "; generator's send lag p99 X ms" when the load generator itself sent late: a reading's latency runs from when
     * it was due, so a generator short of CPU (it shares the cores) shows in the p99, and this says how much.
     */
    private static String sendLag(Map<String, Object> l) {
        double lag = Json.number(l, "charge.send_lag_ms.p99");
        return Double.isNaN(lag) || lag < P99_MS / 5 ? "" : "; the generator's own send lag p99 " + fmt(lag, 1) + " ms";
    }

    private static boolean tls(Map<String, Object> l) {
        return Boolean.TRUE.equals(Json.value(l, "charge.tls"));
    }

    private static boolean handshakesOnly(Map<String, Object> l) {
        return "handshakes".equals(stringAt(l, "charge", "mode"));
    }

    /** " (heap -Xmx…)" for a load whose server ran with another heap than the run's reference load; else nothing. */
    private static String heapNote(Map<String, Object> l, String referenceHeap) {
        String heap = Json.string(l, "heap");
        return heap == null || referenceHeap == null || heap.equals(referenceHeap) ? "" : " (heap " + heap + ")";
    }

    private static Target manyConnections(String store, Map<String, Object> many, Map<String, Object> hundred) {
        String what = store + ", 200,000 / 1,000 vs 1,000,000 / 100 (readings/s)";
        if (many == null || hundred == null) {
            return missing(what);
        }
        double ratio = perS(many) / perS(hundred);
        return new Target(what, count(perS(many)) + "/s = " + fmt(ratio, 2) + " × " + count(perS(hundred)) + "/s",
                "≥ " + MANY_CONNECTIONS_VS_100 + " ×", ratio >= MANY_CONNECTIONS_VS_100);
    }

    /**
     * Why the repetitions of a physical limit cannot serve as one, or null when they can: the sqlite3 import must
     * have stored every row; socat must have been sent everything (the generator's run ok) and, into a file, have
     * written every byte sent.
     */
    static String limitProblem(List<Map<String, Object>> reps) {
        int bad = 0;
        String first = null;
        for (Map<String, Object> rep : reps) {
            String problem = null;
            if ("import".equals(rep.get("kind")) && Json.number(rep, "stored") != Json.number(rep, "readings")) {
                problem = "stored " + count(Json.number(rep, "stored")) + " of " + count(Json.number(rep, "readings"))
                        + " rows";
            } else if ("raw".equals(rep.get("kind"))) {
                if (!Boolean.TRUE.equals(Json.value(rep, "charge.ok"))) {
                    problem = "the load generator failed (" + count(Json.number(rep, "charge.errors")) + " errors)";
                } else if ("file".equals(Json.string(rep, "target"))
                        && Json.number(rep, "file_bytes") != Json.number(rep, "charge.bytes")) {
                    problem = "the file holds " + count(Json.number(rep, "file_bytes")) + " of the "
                            + count(Json.number(rep, "charge.bytes")) + " bytes sent";
                }
            }
            if (problem != null) {
                bad++;
                first = first == null ? problem : first;
            }
        }
        return bad == 0 ? null : bad + " of " + reps.size() + " repetitions: " + first;
    }

    private static String checked(Map<String, String> invalid, Map<String, Object> limit) {
        String problem = invalid.get(Json.string(limit, "name"));
        return problem == null ? "yes" : "**NO**: " + problem;
    }

    private static String notValid(Map<String, String> invalid, Map<String, Object> limit) {
        return invalid.containsKey(Json.string(limit, "name")) ? " (**not a valid limit**)" : "";
    }

    /**
     * Nothing when the peak RSS is the measured load's; otherwise (run.sh could not reset the high-water mark,
     * rss_scope "life") a note that it is the peak since the server started, warm-up included.
     */
    private static String rssScope(Map<String, Object> run) {
        return "life".equals(Json.string(run, "rss_scope")) ? " (since start, warm-up included)" : "";
    }

    private static Target missing(String what) {
        return new Target(what, "not measured", "", false);
    }

    /** What a repetition is ranked by: readings/s, or rows/s for an import. */
    private static double rate(Map<String, Object> l) {
        return "import".equals(l.get("kind")) ? importRate(l) : perS(l);
    }

    /** Readings of a load (from its charge line) or rows of an import. */
    private static double readings(Map<String, Object> l) {
        return "import".equals(l.get("kind")) ? Json.number(l, "readings") : Json.number(l, "charge.readings");
    }

    private static double connections(Map<String, Object> l) {
        return Json.number(l, "charge.connections");
    }

    /** Readings per second per connection; 0 at full speed. */
    private static double ratePerConnection(Map<String, Object> l) {
        return Json.number(l, "charge.rate_per_connection");
    }

    private static double perS(Map<String, Object> run) {
        return Json.number(run, "charge.readings_per_s");
    }

    private static double importRate(Map<String, Object> imp) {
        return Json.number(imp, "readings") / Json.number(imp, "seconds");
    }

    /** The measurement run.sh named so (the names, not the sizes, identify the runs: QUICK=1 shrinks sizes). */
    private static Map<String, Object> named(List<Map<String, Object>> lines, String name) {
        for (Map<String, Object> l : lines) {
            if (name.equals(l.get("name"))) {
                return l;
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static String stringAt(Map<String, Object> l, String object, String key) {
        Object o = l.get(object);
        return o instanceof Map ? Json.string((Map<String, Object>) o, key) : null;
    }

    static String count(double v) {
        return Double.isNaN(v) ? "?" : String.format(Locale.ROOT, "%,d", Math.round(v));
    }

    static String fmt(double v, int decimals) {
        return Double.isNaN(v) ? "?" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
