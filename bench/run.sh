#!/usr/bin/env bash
# The performance benchmark of issue 5, in one run on this machine (docs/performance.md explains every number).
#
#   bench/run.sh                 # the full run (about 5 to 10 minutes on 2 cores), appended to bench/RESULTS.md
#   QUICK=1 bench/run.sh         # every step at a tenth of the size, to check the script; nothing appended
#
# Settings (environment):
#   SERVER_HEAP   JVM options of the server (default: the heap the README recommends, -Xmx256m)
#   SYNC          the server's --sqlite-synchronous, also used by the sqlite3 import (default FULL, the server's)
#   SERVER_OPTS   more server flags, e.g. "--workers 2 --max-batch 50000"
#   KEEP=1        keep the temporary folder (databases, files, logs) and print where it is
#
# What it does: builds the jars if they are missing; measures the two physical limits (the sqlite3 shell's
# .import of the same rows into the same schema, and raw TCP-to-file with socat fed the same NDJSON bytes over the
# same number of connections) and the load generator's own ceiling; then starts a fresh server (fresh temp dir) for
# each load, drives it with bench/target/charge.jar, reads its CPU seconds and peak RSS from /proc, stops it and
# counts what the store holds; prints the tables with PASS/FAIL per target of the issue and appends them, with
# date, commit and machine, to bench/RESULTS.md. Only 127.0.0.1, free ports, and every process it starts is
# stopped by its PID when it ends (also on Ctrl-C).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVEUR_JAR=$ROOT/serveur/target/serveur.jar
CHARGE_JAR=$ROOT/bench/target/charge.jar
SCHEMA=$ROOT/serveur/src/main/resources/db/migration/V1__create_mesures.sql
SERVER_HEAP=${SERVER_HEAP:--Xmx256m}
SYNC=${SYNC:-FULL}
SERVER_OPTS=${SERVER_OPTS:-}
QUICK=${QUICK:-0}
KEEP=${KEEP:-0}
CHARGE_JVM=(-Xms1g -Xmx1g -XX:MaxDirectMemorySize=2g)

if [[ $QUICK == 1 ]]; then SCALE=10; else SCALE=1; fi
R_1M=$((1000000 / SCALE)); R_200K=$((200000 / SCALE)); R_4M=$((4000000 / SCALE))
MANY_C=$((10000 / SCALE)); MANY_N=$((MANY_C * 30))   # 30 readings per connection at 1/s: 30 s, 10 s warm-up
IMPORT_CHUNK=$((100000 / SCALE))

say() { printf '[run.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------------------------------- processes we own
PIDS=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mesures-bench.XXXXXX")
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [[ $KEEP == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
forget_pid() { local p=$1 i; for i in "${!PIDS[@]}"; do [[ ${PIDS[$i]} == "$p" ]] && unset 'PIDS[i]'; done; return 0; }

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
if [[ ! -f $SERVEUR_JAR || ! -f $CHARGE_JAR ]]; then
    say "building the jars (mvn -B -q -DskipTests package)"
    (cd "$ROOT" && mvn -B -q -DskipTests -pl bench -am package) || die "the build failed"
fi
# 10,000 connections need 10,000 descriptors in the generator and in the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < MANY_C + 500)); then
    say "warning: only $(ulimit -n) file descriptors allowed; the $MANY_C-connection test will fail"
fi

# ------------------------------------------------------------------------------------------- measuring helpers
TICKS=$(getconf CLK_TCK)
MEASUREMENTS=$WORK/measurements.jsonl
: >"$MEASUREMENTS"

# CPU ticks (user + system) of a whole process, dead threads included.
process_ticks() { local s; s=$(<"/proc/$1/stat"); s=${s##*) }; set -- $s; echo $((${12} + ${13})); }

# One line per live thread: name<TAB>ticks (names as the kernel keeps them: 15 characters).
thread_ticks() {
    local t s comm
    for t in /proc/"$1"/task/*; do
        comm=$(<"$t/comm") 2>/dev/null || continue
        s=$(<"$t/stat") 2>/dev/null || continue
        s=${s##*) }
        set -- $s
        printf '%s\t%s\n' "$comm" $((${12} + ${13}))
    done
}

# JSON object {name: seconds} of the CPU each thread name used between two thread_ticks snapshots.
threads_json() {
    awk -F'\t' -v ticks="$TICKS" '
        FNR == NR { before[$1] += $2; next }
        { after[$1] += $2 }
        END {
            printf "{"; sep = ""
            for (n in after) { d = (after[n] - before[n]) / ticks; if (d > 0) { printf "%s\"%s\":%.2f", sep, n, d; sep = "," } }
            printf "}"
        }' "$1" "$2"
}

# A TCP port nobody listens on (the server itself binds port 0 and says which it got).
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 12000))
        if ! ss -Htln "sport = :$p" | grep -q .; then echo "$p"; return; fi
    done
    die "no free port found"
}

# start_server DIR STORE: starts a fresh server, sets SERVER_PID and SERVER_PORT.
start_server() {
    local dir=$1 store=$2
    mkdir -p "$dir"
    # shellcheck disable=SC2086
    java $SERVER_HEAP -jar "$SERVEUR_JAR" --bind 127.0.0.1 --port 0 --http-port -1 --store "$store" \
        --sqlite-synchronous "$SYNC" $SERVER_OPTS >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    SERVER_PORT=
    for _ in $(seq 300); do
        SERVER_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/server.log" | head -1)
        [[ -n $SERVER_PORT ]] && return
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$dir/server.log" >&2
    die "the server did not start"
}

stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    forget_pid "$SERVER_PID"
}

# charge ARGS...: runs the load generator, its human line to stderr, sets CHARGE_JSON.
charge() {
    local out
    out=$(java "${CHARGE_JVM[@]}" -jar "$CHARGE_JAR" --timeout 5m "$@") || true
    printf '%s\n' "$out" | grep -v '^{' | sed 's/^/    /' >&2
    CHARGE_JSON=$(printf '%s\n' "$out" | grep '^{' | tail -1)
    [[ -n $CHARGE_JSON ]] || die "the load generator printed no result"
}

# server_load NAME STORE_KIND READINGS CONNECTIONS SENSORS [charge options...]
server_load() {
    local name=$1 kind=$2 readings=$3 connections=$4 sensors=$5
    shift 5
    local dir=$WORK/$name store stored cpu0 cpu1 hwm
    if [[ $kind == sqlite ]]; then store=sqlite:$dir/mesures.db; else store=file:$dir/donnees.txt; fi
    sync
    start_server "$dir" "$store"
    say "$name: $readings readings over $connections connections, $kind store (server pid $SERVER_PID, port $SERVER_PORT)"
    cpu0=$(process_ticks "$SERVER_PID")
    thread_ticks "$SERVER_PID" >"$dir/threads.before"
    charge -p "$SERVER_PORT" -n "$readings" -c "$connections" -s "$sensors" "$@"
    cpu1=$(process_ticks "$SERVER_PID")
    thread_ticks "$SERVER_PID" >"$dir/threads.after"
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
    stop_server
    if [[ $kind == sqlite ]]; then
        stored=$(sqlite3 "$dir/mesures.db" 'SELECT count(*) FROM mesures')
    else
        stored=$(wc -l <"$dir/donnees.txt")
    fi
    local rate=0
    if [[ " $* " == *" --rate "* ]]; then rate=1; fi
    printf '{"kind":"server","name":"%s","store":"%s","readings":%s,"connections":%s,"sensors":%s,"rate":%s,"heap":"%s","sync":"%s","server_cpu_s":%s,"rss_peak_kb":%s,"stored":%s,"threads_cpu_s":%s,"charge":%s}\n' \
        "$name" "$kind" "$readings" "$connections" "$sensors" "$rate" "$SERVER_HEAP" "$SYNC" \
        "$(awk -v a="$cpu0" -v b="$cpu1" -v t="$TICKS" 'BEGIN { printf "%.2f", (b - a) / t }')" \
        "$hwm" "$stored" "$(threads_json "$dir/threads.before" "$dir/threads.after")" "$CHARGE_JSON" \
        >>"$MEASUREMENTS"
    say "$name: stored $stored of $readings; server CPU $(awk -v a="$cpu0" -v b="$cpu1" -v t="$TICKS" 'BEGIN { printf "%.2f", (b - a) / t }') s; peak RSS $((hwm / 1024)) MB"
}

# sqlite_import NAME READINGS: the sqlite3 shell imports the same rows into the same schema, 100,000 a transaction.
sqlite_import() {
    local name=$1 readings=$2 dir=$WORK/$1
    mkdir -p "$dir"
    java "${CHARGE_JVM[@]}" -jar "$CHARGE_JAR" rows -n "$readings" -s 1000 -o "$dir/rows.csv"
    split -l "$IMPORT_CHUNK" -d -a 4 --additional-suffix=.csv "$dir/rows.csv" "$dir/chunk_"
    rm "$dir/rows.csv"
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
    say "$name: sqlite3 .import of $readings rows, $IMPORT_CHUNK per transaction, WAL, synchronous=$SYNC"
    local out t0 t1 stored
    out=$(sqlite3 "$dir/import.db" <"$dir/import.sql")
    t0=$(printf '%s\n' "$out" | grep -E '^[0-9]+\.[0-9]+$' | head -1)
    t1=$(printf '%s\n' "$out" | grep -E '^[0-9]+\.[0-9]+$' | tail -1)
    stored=$(sqlite3 "$dir/import.db" 'SELECT count(*) FROM mesures')
    local seconds
    seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    printf '{"kind":"import","name":"%s","readings":%s,"seconds":%s,"stored":%s,"detail":"%s rows a transaction, WAL, synchronous=%s, 64 MiB cache"}\n' \
        "$name" "$readings" "$seconds" "$stored" "$IMPORT_CHUNK" "$SYNC" >>"$MEASUREMENTS"
    say "$name: $seconds s, $stored rows"
    rm -f "$dir"/chunk_*.csv "$dir"/import.db*
}

# raw_limit NAME TARGET(file|null) READINGS CONNECTIONS: the same NDJSON bytes into socat, one process per connection.
raw_limit() {
    local name=$1 target=$2 readings=$3 connections=$4 dir=$WORK/$1 port out pid
    mkdir -p "$dir"
    if [[ $target == file ]]; then out=$dir/raw.ndjson; else out=/dev/null; fi
    for _ in $(seq 10); do
        port=$(free_port)
        socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,backlog=4096" "OPEN:$out,creat,append" \
            2>"$dir/socat.log" &
        pid=$!
        PIDS+=("$pid")
        sleep 0.3
        kill -0 "$pid" 2>/dev/null && break
        forget_pid "$pid"
        pid=
    done
    [[ -n $pid ]] || die "socat could not listen"
    sync
    say "$name: $readings readings over $connections connections into socat -> $out (pid $pid, port $port)"
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
    printf '{"kind":"raw","name":"%s","target":"%s","readings":%s,"connections":%s,"file_bytes":%s,"fsync_s":%s,"charge":%s}\n' \
        "$name" "$target" "$readings" "$connections" "$bytes" "$fsync_s" "$CHARGE_JSON" >>"$MEASUREMENTS"
    rm -f "$dir/raw.ndjson"
}

# ------------------------------------------------------------------------------------------- the run
STARTED=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
say "work folder $WORK; server heap '$SERVER_HEAP', synchronous=$SYNC${SERVER_OPTS:+, $SERVER_OPTS}"

sqlite_import import_1m "$R_1M"
sqlite_import import_4m "$R_4M"
raw_limit raw_file_100 file "$R_1M" 100
raw_limit raw_file_1000 file "$R_200K" 1000
raw_limit sink_null_100 null "$R_4M" 100

server_load sqlite_1m_100 sqlite "$R_1M" 100 1000
server_load sqlite_200k_1000 sqlite "$R_200K" 1000 1000
server_load sqlite_4m_100 sqlite "$R_4M" 100 1000
server_load file_1m_100 file "$R_1M" 100 1000
server_load file_200k_1000 file "$R_200K" 1000 1000
server_load sqlite_10k_rate sqlite "$MANY_N" "$MANY_C" "$MANY_C" --rate 1/s --warmup 10s

# ------------------------------------------------------------------------------------------- the tables
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$ROOT" status --porcelain -- serveur protocole bench 2>/dev/null) ]]; then COMMIT="$COMMIT (+ local changes)"; fi
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
RAM=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
JDK=$(java -version 2>&1 | head -1)
SQLITE_JDBC=$(unzip -l "$SERVEUR_JAR" 2>/dev/null | grep -o 'sqlite-jdbc/[0-9.]*' | head -1 | cut -d/ -f2 || true)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
TABLE=$WORK/table.md
{
    echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) · commit $COMMIT"
    echo
    echo "Machine: $(nproc) cores ($CPU_MODEL), $RAM RAM, Linux $(uname -r), $JDK; sqlite3 shell $(sqlite3 --version | cut -d' ' -f1); socat $(socat -V | awk '/socat version/ { print $3; exit }'); load average before/after: $LOAD_BEFORE / $LOAD."
    echo "Server: \`java $SERVER_HEAP -jar serveur/target/serveur.jar --sqlite-synchronous $SYNC${SERVER_OPTS:+ $SERVER_OPTS}\`, a fresh server and store for each run. Load: bench/target/charge.jar, 1,000 sensors (10,000 in the 10,000-connection run), every reading a distinct (capteur_id, timestamp), acks requested and waited for. Run time $(( $(date +%s) - STARTED )) s."
    echo
    set +e
    java -cp "$CHARGE_JAR" fr.mesures.bench.charge.Charge report "$MEASUREMENTS"
    REPORT_STATUS=$?
    set -e
    echo
} >"$TABLE"
cat "$TABLE"
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
cp "$MEASUREMENTS" "$ROOT/bench/target/last-measurements.jsonl" 2>/dev/null || true
exit "${REPORT_STATUS:-0}"
