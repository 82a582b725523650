#!/usr/bin/env bash
# The performance benchmark of issue 5, in one run on this machine (docs/performance.md explains every number).
#
#   bench/run.sh                 # the full run (about 5 minutes on 2 cores), appended to bench/RESULTS.md
#   QUICK=1 bench/run.sh         # every step at a tenth of the size, to check the script; nothing appended
#
# Settings (environment):
#   SERVER_HEAP   JVM options of the server (default -Xmx128m: the heap proposed for the README, see docs/performance.md)
#   TLS_LARGE_HEAP  the server's heap for the TLS runs at 10,000 connections again, when at SERVER_HEAP some were
#                 refused (default -Xmx1280m: its memory budget, a sixth of the heap, admits 10,000 handshakes under
#                 way at once at 19 KiB each)
#   SYNC          the server's --sqlite-synchronous, also used by the sqlite3 import (default FULL, the server's)
#   SERVER_OPTS   more server flags, e.g. "--workers 2 --max-batch 50000"
#   REPEAT        how many times each measurement is taken (default 5); the tables show the median run and the
#                 spread, so one noisy moment on a shared machine does not decide a target
#   WARMUP        readings sent to each server before its measured load (default 1000000), so that the
#                 measurement is the server at work and not the JIT compiling it; 0 measures a cold server
#   KEEP=1        keep the temporary folder (databases, files, logs) and print where it is
#
# What it does: builds the jars if they are missing (and warns, here and in the results, when one is older than its
# sources: it measures the jars as they are); makes a private CA and server certificate for the TLS runs
# (charge.jar pki, no openssl); measures the two physical limits (the sqlite3 shell's
# .import of the same rows into the same schema, and raw TCP-to-file with socat fed the same NDJSON bytes over the
# same number of connections) and the load generator's own ceiling; then starts a fresh server (fresh temp dir) for
# each load, drives it with bench/target/charge.jar, reads its CPU seconds and peak RSS from /proc, stops it and
# counts what the store holds. The TLS runs do the same with the server's TLS listener alone (--port -1) and the
# generator over TLS (--tls-ca), interleaved with the plaintext ones: TLS against plaintext at 1,000,000 / 100, 10,000
# TLS connections at 1 reading/s, and 10,000 TLS handshakes at once; the last two again at TLS_LARGE_HEAP when the
# server refused connections at SERVER_HEAP. Prints the tables with PASS/FAIL per target of the issue and appends them, with
# date, commit and machine, to bench/RESULTS.md. Only 127.0.0.1, free ports, and every process it starts is
# stopped by its PID when it ends (also on Ctrl-C).
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SAY_AS=run.sh
SCHEMA=$ROOT/serveur/src/main/resources/db/migration/V1__create_mesures.sql
SERVER_HEAP=${SERVER_HEAP:--Xmx128m}
TLS_LARGE_HEAP=${TLS_LARGE_HEAP:--Xmx1280m}
SYNC=${SYNC:-FULL}
SERVER_OPTS=${SERVER_OPTS:-}
QUICK=${QUICK:-0}
KEEP=${KEEP:-0}
REPEAT=${REPEAT:-5}
WARMUP=${WARMUP:-1000000}
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

if [[ $QUICK == 1 ]]; then SCALE=10; else SCALE=1; fi
R_1M=$((1000000 / SCALE)); R_200K=$((200000 / SCALE)); R_4M=$((4000000 / SCALE))
MANY_C=$((10000 / SCALE)); MANY_N=$((MANY_C * 30))   # 30 readings per connection at 1/s: 30 s, 10 s warm-up
IMPORT_CHUNK=$((100000 / SCALE))
# A TLS warm-up goes over this many connections at most: 100, as the 1,000,000 / 100 runs, is enough to compile the
# handshake and the TLS read paths. (Over 1,000 an -Xmx128m server stalled for good, found by this benchmark on
# 2026-12-03 and fixed since: TlsMemoryTest.) Its handshakes go at most 50 at a time: the warm-up's
# generator is a cold JVM, and a cold JVM's handshakes are slow enough that 256 at once met the server's 10 s
# handshake timeout on this machine when it was busy.
TLS_WARMUP_C=100
# Handshakes the generator makes in memory before the loads with thousands of TLS connections, so that its own TLS
# code is compiled before the handshakes are timed (or pile up against the server's timeout).
TLS_GENERATOR_WARMUP=500
WARMUP=$((WARMUP / SCALE))

# Exit codes: 0 every target passes, 1 one fails (the report says which), 3 a step could not run (die, or any command
# that failed unexpectedly: the ERR trap, which -E extends to functions and subshells).
trap 'die "line $LINENO: $BASH_COMMAND failed"' ERR

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mesures-bench.XXXXXX")
cleanup() {
    stop_owned
    # Also when the run stopped half-way: what was measured until then can still be read (charge.jar report).
    if [[ -n ${MEASUREMENTS:-} ]]; then cp "$MEASUREMENTS" "$ROOT/bench/target/last-measurements.jsonl" 2>/dev/null || true; fi
    if [[ $KEEP == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------------------------------- what it needs
need_packages=()
command -v sqlite3 >/dev/null || need_packages+=(sqlite3)
command -v socat >/dev/null || need_packages+=(socat)
command -v ss >/dev/null || need_packages+=(iproute2)
if ((${#need_packages[@]})); then
    say "installing ${need_packages[*]} (Debian packages)"
    if [[ $(id -u) == 0 ]]; then SUDO=(); else SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq && "${SUDO[@]}" apt-get install -y -qq "${need_packages[@]}" >/dev/null \
        || die "could not install ${need_packages[*]}"
fi
command -v java >/dev/null || die "java (17+) is needed"
ensure_jars
# The work tree may be rebuilt while this runs (a shared machine): measure copies taken now, all the run long.
cp "$SERVEUR_JAR" "$WORK/serveur.jar"
cp "$CHARGE_JAR" "$WORK/charge.jar"
SERVEUR_JAR_BUILT=$(date -u -r "$SERVEUR_JAR" +%Y-%m-%dT%H:%M:%SZ)
SERVEUR_JAR=$WORK/serveur.jar
CHARGE_JAR=$WORK/charge.jar
SERVEUR_SHA=$(sha256sum "$SERVEUR_JAR" | cut -c1-12)
# The TLS runs' certificates: a private CA, and a server certificate for 127.0.0.1 it signed (EC P-256).
PKI=$WORK/pki
java -jar "$CHARGE_JAR" pki -d "$PKI" >/dev/null || die "could not make the TLS certificates"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$ROOT" status --porcelain -- serveur protocole bench 2>/dev/null) ]]; then COMMIT="$COMMIT (+ local changes)"; fi
# 10,000 connections need 10,000 descriptors in the generator and in the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < MANY_C + 500)); then
    say "warning: only $(ulimit -n) file descriptors allowed; the $MANY_C-connection test will fail"
fi

# ------------------------------------------------------------------------------------------- measuring helpers
MEASUREMENTS=$WORK/measurements.jsonl
: >"$MEASUREMENTS"

# cpu_json BEFORE AFTER: from two thread_ticks snapshots, the fields "server_cpu_s" (the process) and
# "threads_cpu_s", a list of {tid, name, cpu_s} for the threads alive at the end. The process's CPU minus the
# threads' is what threads that ended in between used: the report shows it, so its table adds up to server_cpu_s.
cpu_json() {
    awk -F'\t' -v ticks="$TICKS" '
        FNR == NR { name[$1] = $2; before[$1] = $3; next }
        $1 == "process" { process = $3 - before["process"]; next }
        {
            # A tid seen before under another name is another thread (tids are reused): it starts from 0.
            d = $3 - (($1 in before) && name[$1] == $2 ? before[$1] : 0)
            if (d == 0) next
            gsub(/[\\"]/, "\\\\&", $2)
            list = list sep sprintf("{\"tid\":%s,\"name\":\"%s\",\"cpu_s\":%.2f}", $1, $2, d / ticks); sep = ","
        }
        END { printf "\"server_cpu_s\":%.2f,\"threads_cpu_s\":[%s]", process / ticks, list }' "$1" "$2"
}

# A TCP port nobody listens on (the server itself binds port 0 and says which it got).
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 12000))
        if [[ -z $(ss -Htln "sport = :$p") ]]; then echo "$p"; return; fi
    done
    die "no free port found"
}

# charge ARGS...: run_charge, stopping the run when the generator could not run at all. A load that ran and failed
# (exit 1) is recorded: its JSON says what went wrong, and the report judges it.
charge() {
    run_charge "$@"
    ((CHARGE_STATUS <= 1)) && [[ -n $CHARGE_JSON ]] || die "the load generator could not run (exit $CHARGE_STATUS)"
}

# server_counts BEFORE AFTER: from two scrapes of the server's /metrics, the field "server_counts": TLS connections
# accepted, TLS handshakes done, connections refused (at the connection limit or the memory budget) and TLS
# handshakes failed by reason, during the load.
server_counts() {
    awk '
        /^serveur_connections_total\{transport="tls"\}/ { v["tls_accepted"] += (FNR == NR ? -$2 : $2) }
        /^serveur_tls_handshakes_total / { v["tls_handshakes"] += (FNR == NR ? -$2 : $2) }
        /^serveur_connections_refused_total / { v["refused"] += (FNR == NR ? -$2 : $2) }
        /^serveur_tls_handshake_failures_total\{/ {
            match($0, /reason="[a-z_]*"/); r = substr($0, RSTART + 8, RLENGTH - 9)
            f[r] += (FNR == NR ? -$2 : $2)
        }
        END {
            printf "\"server_counts\":{\"tls_accepted\":%d,\"tls_handshakes\":%d,\"refused\":%d,\"handshake_failures\":{",
                v["tls_accepted"], v["tls_handshakes"], v["refused"]
            for (r in f) { printf "%s\"%s\":%d", sep, r, f[r]; sep = "," }
            printf "}}"
        }' "$1" "$2"
}

# server_load NAME REP STORE_KIND READINGS CONNECTIONS SENSORS [charge options...]
# For one call, from the environment: LOAD_TLS=1 over TLS (the server's TLS listener alone; the warm-up over TLS
# too, over TLS_WARMUP_C connections at most); LOAD_HEAP the server's heap instead of SERVER_HEAP; LOAD_METRICS=1 the
# server's HTTP endpoint on, its counts read before and after the load (server_counts).
server_load() {
    local name=$1 rep=$2 kind=$3 readings=$4 connections=$5 sensors=$6
    shift 6
    local tls=${LOAD_TLS:-0} heap=${LOAD_HEAP:-$SERVER_HEAP} metrics=${LOAD_METRICS:-0}
    local dir=$WORK/$name.$rep store stored hwm hwm_scope=run cpu counts='' http=-1 tls_dir='' tls_args=()
    local warm_connections=$connections warm_args=()
    if [[ $kind == sqlite ]]; then store=sqlite:$dir/mesures.db; else store=file:$dir/donnees.txt; fi
    if ((tls)); then
        tls_dir=$PKI
        tls_args=(--tls-ca "$PKI/ca.pem")
        warm_connections=$((connections < TLS_WARMUP_C ? connections : TLS_WARMUP_C))
        warm_args=(--tls-ca "$PKI/ca.pem" --connect-in-flight 50)
    fi
    if ((metrics)); then http=0; fi
    SERVER_HEAP=$heap start_server "$dir" "$store" "$http" "$tls_dir"
    say "$name #$rep: a fresh server${tls_dir:+ (TLS only)}, heap $heap, pid $SERVER_PID, port $SERVER_PORT"
    warm_up "$SERVER_PORT" "$warm_connections" "${warm_args[@]}"
    if ((metrics)); then
        curl -sf "http://127.0.0.1:$SERVER_HTTP/metrics" >"$dir/metrics.before" || die "$name: no /metrics"
    fi
    sync
    # Peak RSS of the measured load alone: reset the high-water mark to the current RSS (Linux 4.0+). When that
    # fails the peak is the server's whole life's, and the report says so. (The braces silence the redirection's
    # own error, which a 2>/dev/null after it would not.)
    { echo 5 >"/proc/$SERVER_PID/clear_refs"; } 2>/dev/null || hwm_scope=life
    say "$name #$rep: $readings readings over $connections connections${tls_dir:+ over TLS}, $kind store${1:+ ($*)}"
    thread_ticks "$SERVER_PID" >"$dir/threads.before"
    charge -p "$SERVER_PORT" -n "$readings" -c "$connections" -s "$sensors" "${tls_args[@]}" "$@"
    thread_ticks "$SERVER_PID" >"$dir/threads.after"
    cpu=$(cpu_json "$dir/threads.before" "$dir/threads.after")
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
    if ((metrics)); then
        curl -sf "http://127.0.0.1:$SERVER_HTTP/metrics" >"$dir/metrics.after" || die "$name: no /metrics"
        counts=,$(server_counts "$dir/metrics.before" "$dir/metrics.after")
    fi
    stop_server
    if [[ $kind == sqlite ]]; then
        stored=$(sqlite3 "$dir/mesures.db" 'SELECT count(*) FROM mesures')
    else
        stored=$(wc -l <"$dir/donnees.txt")
    fi
    # The warm-up's rows are in the store too: take away what it had acknowledged (all, or it would have stopped us).
    stored=$((stored - WARMED))
    # What the load was (readings, connections, sensors, rate) is in the charge line: no copy beside it.
    printf '{"kind":"server","name":"%s","rep":%s,"store":"%s","heap":"%s","sync":"%s","warmup":%s,"warmup_connections":%s,"rss_scope":"%s",%s,"rss_peak_kb":%s,"stored":%s%s,"charge":%s}\n' \
        "$name" "$rep" "$kind" "$heap" "$SYNC" "$WARMED" "$warm_connections" "$hwm_scope" "$cpu" "$hwm" "$stored" \
        "$counts" "$CHARGE_JSON" >>"$MEASUREMENTS"
    say "$name #$rep: stored $stored of $readings; server CPU $(sed 's/.*"server_cpu_s":\([0-9.]*\).*/\1/' <<<"$cpu") s; peak RSS $((hwm / 1024)) MB"
}

# sqlite_import NAME READINGS REPS: the sqlite3 shell imports the same rows into the same schema, 100,000 a
# transaction, REPS times into a fresh database.
sqlite_import() {
    local name=$1 readings=$2 reps=$3 dir=$WORK/$1 rep
    mkdir -p "$dir"
    java "${CHARGE_JVM[@]}" -jar "$CHARGE_JAR" rows -n "$readings" -s 1000 -o "$dir/rows.csv"
    split -l "$IMPORT_CHUNK" -d -a 4 --additional-suffix=.csv "$dir/rows.csv" "$dir/chunk_"
    rm "$dir/rows.csv"
    for rep in $(seq "$reps"); do
        import_once "$name" "$readings" "$rep" "$dir"
    done
    rm -f "$dir"/chunk_*.csv
}

import_once() {
    local name=$1 readings=$2 rep=$3 dir=$4
    rm -f "$dir"/import.db*
    sqlite3 "$dir/import.db" <"$SCHEMA"
    {
        echo "PRAGMA journal_mode=WAL;"
        echo "PRAGMA synchronous=$SYNC;"
        echo "PRAGMA cache_size=-65536;"   # the server's page cache: 64 MiB
        echo "PRAGMA temp_store=MEMORY;"
        echo ".mode csv"
        echo ".shell date +%s.%N"
        for f in "$dir"/chunk_*.csv; do echo ".import $f mesures"; done
        echo ".shell date +%s.%N"
    } >"$dir/import.sql"
    sync
    say "$name #$rep: sqlite3 .import of $readings rows, $IMPORT_CHUNK per transaction, WAL, synchronous=$SYNC"
    local out t0 t1 stored
    # -bail: the shell stops at the first error and exits non-zero. A row .import could not insert is only a
    # message on stderr, so the count below is the check that every row went in: the limit is a yardstick only then.
    out=$(sqlite3 -bail "$dir/import.db" <"$dir/import.sql" 2>"$dir/import.err") \
        || { cat "$dir/import.err" >&2; die "$name #$rep: the sqlite3 import failed"; }
    t0=$(printf '%s\n' "$out" | grep -E '^[0-9]+\.[0-9]+$' | head -1 || true)
    t1=$(printf '%s\n' "$out" | grep -E '^[0-9]+\.[0-9]+$' | tail -1 || true)
    [[ -n $t0 && $t0 != "$t1" ]] || die "$name #$rep: the sqlite3 shell did not print its two times"
    stored=$(sqlite3 "$dir/import.db" 'SELECT count(*) FROM mesures')
    if ((stored != readings)); then
        head -5 "$dir/import.err" >&2
        die "$name #$rep: the sqlite3 import stored $stored of $readings rows"
    fi
    local seconds
    seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    printf '{"kind":"import","name":"%s","rep":%s,"readings":%s,"seconds":%s,"stored":%s,"detail":"%s rows a transaction, WAL, synchronous=%s, 64 MiB cache"}\n' \
        "$name" "$rep" "$readings" "$seconds" "$stored" "$IMPORT_CHUNK" "$SYNC" >>"$MEASUREMENTS"
    say "$name #$rep: $seconds s, $stored rows"
    rm -f "$dir"/import.db*
}

# listening PORT: true when something listens on the TCP port.
listening() { [[ -n $(ss -Htln "sport = :$1") ]]; }

# raw_limit NAME REP TARGET(file|null) READINGS CONNECTIONS: the same NDJSON bytes into socat, one process per
# connection.
raw_limit() {
    local name=$1 rep=$2 target=$3 readings=$4 connections=$5 dir=$WORK/$1 port out pid=''
    mkdir -p "$dir"
    if [[ $target == file ]]; then out=$dir/raw.ndjson; else out=/dev/null; fi
    for _ in $(seq 10); do
        port=$(free_port)
        socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,backlog=4096" "OPEN:$out,creat,append" \
            2>"$dir/socat.log" &
        pid=$!
        PIDS+=("$pid")
        # Until the port shows as listening (5 s at most), or socat has died: someone took the port meanwhile.
        for _ in $(seq 100); do
            listening "$port" || ! kill -0 "$pid" 2>/dev/null && break
            sleep 0.05
        done
        listening "$port" && kill -0 "$pid" 2>/dev/null && break
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        forget_pid "$pid"
        pid=''
    done
    [[ -n $pid ]] || { cat "$dir/socat.log" >&2; die "socat could not listen"; }
    sync
    say "$name #$rep: $readings readings over $connections connections into socat -> $out (pid $pid, port $port)"
    charge -p "$port" -n "$readings" -c "$connections" -s 1000 --sink
    local bytes=0 fsync_s=0
    if [[ $target == file ]]; then
        bytes=$(stat -c %s "$out")
        local t0 t1
        t0=$(date +%s.%N); sync "$out"; t1=$(date +%s.%N)
        fsync_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    fi
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
    printf '{"kind":"raw","name":"%s","rep":%s,"target":"%s","file_bytes":%s,"fsync_s":%s,"charge":%s}\n' \
        "$name" "$rep" "$target" "$bytes" "$fsync_s" "$CHARGE_JSON" >>"$MEASUREMENTS"
    rm -f "$dir/raw.ndjson"
}

# ------------------------------------------------------------------------------------------- the run
STARTED=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "work folder $WORK; server heap '$SERVER_HEAP', synchronous=$SYNC${SERVER_OPTS:+, $SERVER_OPTS}"

sqlite_import import_1m "$R_1M" "$REPEAT"
sqlite_import import_4m "$R_4M" "$REPEAT"
for rep in $(seq "$REPEAT"); do
    raw_limit raw_file_100 "$rep" file "$R_1M" 100
    raw_limit raw_file_1000 "$rep" file "$R_200K" 1000
    raw_limit sink_null_100 "$rep" null "$R_4M" 100
done
# Interleaved, so that a noisy minute on the shared machine hits one repetition of each, not every repetition of one.
for rep in $(seq "$REPEAT"); do
    server_load sqlite_1m_100 "$rep" sqlite "$R_1M" 100 1000
    # The same load over TLS, right after: its ratio to the plaintext one is taken within one run.
    LOAD_TLS=1 server_load tls_sqlite_1m_100 "$rep" sqlite "$R_1M" 100 1000
    server_load sqlite_200k_1000 "$rep" sqlite "$R_200K" 1000 1000
    server_load sqlite_4m_100 "$rep" sqlite "$R_4M" 100 1000
    server_load file_1m_100 "$rep" file "$R_1M" 100 1000
    server_load file_200k_1000 "$rep" file "$R_200K" 1000 1000
done
# 30 s at 1 reading/s per connection; once is enough (its percentiles already rest on 200,000 readings).
server_load sqlite_10k_rate 1 sqlite "$MANY_N" "$MANY_C" "$MANY_C" --rate 1/s --warmup 10s
# The same over TLS, at the same heap; where the server refused connections (its memory budget holds about 2,100
# established TLS connections at -Xmx128m), again at TLS_LARGE_HEAP. Connections are opened as in plaintext, 256 at a
# time: this measures 10,000 connections held, the storm of handshakes comes next.
CHARGE_TIMEOUT=15m LOAD_TLS=1 LOAD_METRICS=1 server_load tls_10k_rate 1 sqlite "$MANY_N" "$MANY_C" "$MANY_C" --rate 1/s --warmup 10s \
    --tls-warmup "$TLS_GENERATOR_WARMUP"
if (($(charge_field held) < MANY_C)); then
    CHARGE_TIMEOUT=15m LOAD_TLS=1 LOAD_METRICS=1 LOAD_HEAP=$TLS_LARGE_HEAP server_load tls_10k_rate_large 1 sqlite "$MANY_N" "$MANY_C" \
        "$MANY_C" --rate 1/s --warmup 10s --tls-warmup "$TLS_GENERATOR_WARMUP"
fi
# 10,000 TLS handshakes at once: every connection opened at once, held until all are settled (a restart of the server
# with every sensor reconnecting at the same instant). At SERVER_HEAP, and at TLS_LARGE_HEAP if not all were done.
CHARGE_TIMEOUT=15m LOAD_TLS=1 LOAD_METRICS=1 server_load tls_handshakes_10k 1 sqlite 0 "$MANY_C" "$MANY_C" --handshakes \
    --connect-in-flight "$MANY_C" --tls-warmup "$TLS_GENERATOR_WARMUP"
if (($(charge_field connected) < MANY_C)); then
    CHARGE_TIMEOUT=15m LOAD_TLS=1 LOAD_METRICS=1 LOAD_HEAP=$TLS_LARGE_HEAP server_load tls_handshakes_10k_large 1 sqlite 0 "$MANY_C" \
        "$MANY_C" --handshakes --connect-in-flight "$MANY_C" --tls-warmup "$TLS_GENERATOR_WARMUP"
fi
# The same 10,000 handshakes, 256 under way at a time (sensors whose reconnections are spread out): the rate at which
# this machine makes handshakes. At TLS_LARGE_HEAP, which holds the 10,000 established connections.
CHARGE_TIMEOUT=15m LOAD_TLS=1 LOAD_METRICS=1 LOAD_HEAP=$TLS_LARGE_HEAP server_load tls_handshakes_10k_paced 1 sqlite 0 "$MANY_C" \
    "$MANY_C" --handshakes --connect-in-flight 256 --tls-warmup "$TLS_GENERATOR_WARMUP"

# ------------------------------------------------------------------------------------------- the tables
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
RAM=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
JDK=$(java -version 2>&1 | head -1)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
TABLE=$WORK/table.md
{
    echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) · commit $COMMIT"
    echo
    if [[ -n $JARS_WARNING ]]; then echo "**Warning: $JARS_WARNING.**"; echo; fi
    echo "Machine: $(nproc) cores ($CPU_MODEL), $RAM RAM, Linux $(uname -r), $JDK; sqlite3 shell $(sqlite3 --version | cut -d' ' -f1); socat $(socat -V | awk '/socat version/ { print $3; exit }'); load average before/after: $LOAD_BEFORE / $LOAD."
    echo "Server: serveur.jar built $SERVEUR_JAR_BUILT (sha256 $SERVEUR_SHA…), run as \`java $SERVER_HEAP -jar serveur/target/serveur.jar --sqlite-synchronous $SYNC${SERVER_OPTS:+ $SERVER_OPTS}\`, a fresh server and store for each measurement, warmed up with $WARMUP readings (other keys) over the same number of connections before it. Load: bench/target/charge.jar, 1,000 sensors (10,000 in the 10,000-connection run), every reading a distinct (capteur_id, timestamp), acks requested and waited for. Each figure is the median of $REPEAT measurements (spread in brackets); peak RSS is that of the measured load. TLS runs: the server's TLS listener alone (\`--port -1 --tls-port 0 --tls-cert --tls-key\`, an EC P-256 certificate for 127.0.0.1 from a private CA made by \`charge.jar pki\`), the generator (\`--tls-ca\`) trusting that CA alone and checking the name, as a sensor does, every connection a full handshake done before the first reading; TLS warm-ups over at most $TLS_WARMUP_C connections. Run time $(( $(date +%s) - STARTED )) s."
    echo
    REPORT_STATUS=0
    java -cp "$CHARGE_JAR" fr.mesures.bench.charge.Charge report "$MEASUREMENTS" || REPORT_STATUS=$?
    echo
} >"$TABLE"
cat "$TABLE"
# 0 and 1 are the report's verdict; anything else (3: it crashed) means there is no verdict to record.
((REPORT_STATUS <= 1)) || die "the report could not be made (exit $REPORT_STATUS); measurements in $MEASUREMENTS"
if [[ $QUICK == 1 ]]; then
    say "QUICK run: not appended to bench/RESULTS.md"
else
    if [[ ! -f $ROOT/bench/RESULTS.md ]]; then
        printf '# Benchmark results\n\nEach section is one complete run of `bench/run.sh` (docs/performance.md says how to read it).\n\n' \
            >"$ROOT/bench/RESULTS.md"
    fi
    cat "$TABLE" >>"$ROOT/bench/RESULTS.md"
    say "appended to bench/RESULTS.md"
fi
exit "$REPORT_STATUS"
