#!/usr/bin/env bash
# Where the server's CPU goes under load: one server with Java Flight Recorder on, one load from charge.jar, then
# the CPU seconds of every server thread (from /proc, exact) and the top methods of each thread (from JFR's
# samples). docs/performance.md explains how to read it.
#
#   bench/profile.sh                       # SQLite store, 1,000,000 readings over 100 connections
#   STORE=file bench/profile.sh            # the file store
#   READINGS=4000000 CONNECTIONS=100 bench/profile.sh
#   SERVER_HEAP=-Xmx256m SYNC=FULL SERVER_OPTS="--workers 2" WARMUP=0 bench/profile.sh
#
# Leaves the recording and the summaries in bench/target/profile/ (open the .jfr in JDK Mission Control for more).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVEUR_JAR=$ROOT/serveur/target/serveur.jar
CHARGE_JAR=$ROOT/bench/target/charge.jar
STORE=${STORE:-sqlite}
READINGS=${READINGS:-1000000}
CONNECTIONS=${CONNECTIONS:-100}
SENSORS=${SENSORS:-1000}
SERVER_HEAP=${SERVER_HEAP:--Xmx128m}
SYNC=${SYNC:-FULL}
SERVER_OPTS=${SERVER_OPTS:-}
WARMUP=${WARMUP:-1000000}   # readings sent before the recording starts (other keys), as in run.sh; 0 for a cold server
OUT=$ROOT/bench/target/profile
[[ -f $SERVEUR_JAR && -f $CHARGE_JAR ]] || (cd "$ROOT" && mvn -B -q -DskipTests -pl bench -am package)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mesures-profile.XXXXXX")
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$OUT"
rm -f "$OUT/server.jfr"

# One line per thread: tid, name, CPU ticks, then from schedstat: ns on a CPU, ns waiting for a CPU (runnable).
thread_ticks() {
    local t s q
    for t in /proc/"$1"/task/*; do
        s=$(<"$t/stat") 2>/dev/null || continue
        q=$(<"$t/schedstat") 2>/dev/null || q="0 0 0"
        printf '%s\t%s\t%s\t%s\t%s\n' "${t##*/}" "$(<"$t/comm")" "$(set -- ${s##*) }; echo $((${12} + ${13})))" \
            "$(set -- $q; echo "$1")" "$(set -- $q; echo "$2")"
    done
}

: >"$WORK/server.log"
if [[ $STORE == sqlite ]]; then SPEC=sqlite:$WORK/mesures.db; else SPEC=file:$WORK/donnees.txt; fi
# shellcheck disable=SC2086
java $SERVER_HEAP -jar "$SERVEUR_JAR" --bind 127.0.0.1 --port 0 --http-port 0 --store "$SPEC" --sqlite-synchronous "$SYNC" \
    $SERVER_OPTS >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PORT=
for _ in $(seq 300); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/server.log" | head -1 || true)
    [[ -n $PORT ]] && break
    sleep 0.1
done
[[ -n $PORT ]] || { cat "$WORK/server.log"; exit 1; }
HTTP=$(sed -n 's/.*(HTTP \([0-9]*\)).*/\1/p' "$WORK/server.log" | head -1)

if ((WARMUP > 0)); then
    java -Xmx1g -jar "$CHARGE_JAR" -p "$PORT" -n "$WARMUP" -c 100 -s 1000 --base-millis $((1764000000000 - 86400000)) \
        | head -1 | sed 's/^/warm-up: /'
fi
# Record during the load only (not the start-up): Java samples every 1 ms, native every 20 ms.
jcmd "$SERVER_PID" JFR.start name=load settings=profile method-profiling=max >/dev/null
curl -s "http://127.0.0.1:$HTTP/metrics" >"$OUT/metrics-before.txt" || true
thread_ticks "$SERVER_PID" >"$WORK/before"
T0=$(date +%s.%N)
java -Xmx1g -jar "$CHARGE_JAR" -p "$PORT" -n "$READINGS" -c "$CONNECTIONS" -s "$SENSORS" | tee "$OUT/charge.txt"
T1=$(date +%s.%N)
thread_ticks "$SERVER_PID" >"$WORK/after"
curl -s "http://127.0.0.1:$HTTP/metrics" >"$OUT/metrics.txt" || true
jcmd "$SERVER_PID" JFR.stop name=load filename="$OUT/server.jfr" >/dev/null
kill -TERM "$SERVER_PID"
for _ in $(seq 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
SERVER_PID=

{
    echo "Server threads during the load ($STORE, $READINGS readings over $CONNECTIONS connections, $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.2f", b - a }') s"
    echo "including the load generator's start): seconds on a CPU (utime+stime), waiting for a CPU (runnable but"
    echo "not running: the 2 cores were busy), and the rest of the time (blocked: I/O such as fsync, or waiting for work)."
    printf '  %7s %8s %8s  %s\n' cpu runnable blocked thread
    awk -F'\t' -v ticks="$(getconf CLK_TCK)" -v wall="$(awk -v a="$T0" -v b="$T1" 'BEGIN { print b - a }')" '
        FNR == NR { c[$1] = $3; r[$1] = $4; q[$1] = $5; next }
        {
            cpu = ($3 - c[$1]) / ticks; runq = ($5 - q[$1]) / 1e9
            if (cpu >= 0.01) printf "  %7.2f %8.2f %8.2f  %s\n", cpu, runq, wall - cpu - runq, $2
        }' "$WORK/before" "$WORK/after" | sort -rn
    echo
    if [[ -s $OUT/metrics.txt ]]; then
        echo "Store commits during the load (from /metrics): $(awk '
            FNR == NR && /^serveur_store_commit_seconds_count/ { n0 = $2 } FNR == NR && /^serveur_store_commit_seconds_sum/ { s0 = $2 }
            FNR != NR && /^serveur_store_commit_seconds_count/ { n = $2 - n0 } FNR != NR && /^serveur_store_commit_seconds_sum/ { s = $2 - s0 }
            END { if (n > 0) printf "%d commits, %.2f s in all, %.1f ms on average, %.0f readings per commit on average", n, s, 1000 * s / n, '"$READINGS"' / n }' \
            "$OUT/metrics-before.txt" "$OUT/metrics.txt")"
        echo
    fi
    java -cp "$CHARGE_JAR" fr.mesures.bench.charge.Charge jfr "$OUT/server.jfr" --top 15
} | tee "$OUT/summary.txt"
echo "recording: $OUT/server.jfr; summary: $OUT/summary.txt" >&2
