#!/usr/bin/env bash
# Where the server's CPU goes under load: one server with Java Flight Recorder on, one load from charge.jar, then
# the CPU seconds of every server thread (from /proc, exact) and the top methods of each thread (from JFR's
# samples). docs/performance.md explains how to read it.
#
#   bench/profile.sh                       # SQLite store, 1,000,000 readings over 100 connections
#   STORE=file bench/profile.sh            # the file store
#   READINGS=4000000 CONNECTIONS=100 bench/profile.sh
#   SERVER_HEAP=-Xmx256m SYNC=FULL SERVER_OPTS="--workers 2" WARMUP=0 bench/profile.sh
#   TLS=1 bench/profile.sh                 # the same over TLS (the server's TLS listener alone, as run.sh does)
#   TLS=1 READINGS=0 CONNECTIONS=2000 SERVER_HEAP=-Xmx1280m \
#       CHARGE_OPTS="--handshakes --connect-in-flight 256 --tls-warmup 500" bench/profile.sh   # handshakes alone
#
# Leaves the recording and the summaries in bench/target/profile/ (open the .jfr in JDK Mission Control for more).
# Exit code: the load generator's (0 the load went as it should, 1 it failed: the profile of that run is still
# written), 3 when a step could not run.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SAY_AS=profile.sh
STORE=${STORE:-sqlite}
READINGS=${READINGS:-1000000}
CONNECTIONS=${CONNECTIONS:-100}
SENSORS=${SENSORS:-1000}
SERVER_HEAP=${SERVER_HEAP:--Xmx128m}
SYNC=${SYNC:-FULL}
SERVER_OPTS=${SERVER_OPTS:-}
WARMUP=${WARMUP:-1000000}   # readings sent before the recording starts (other keys), as in run.sh; 0 for a cold server
TLS=${TLS:-0}
CHARGE_OPTS=${CHARGE_OPTS:-}   # more load generator options
OUT=$ROOT/bench/target/profile
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap 'die "line $LINENO: $BASH_COMMAND failed"' ERR
ensure_jars
# Thousands of connections need as many descriptors, in the generator and in the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mesures-profile.XXXXXX")
cleanup() {
    stop_owned
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$OUT"
rm -f "$OUT/server.jfr"

if [[ $STORE == sqlite ]]; then SPEC=sqlite:$WORK/mesures.db; else SPEC=file:$WORK/donnees.txt; fi
TLS_DIR='' TLS_ARGS=() WARM_ARGS=() WARM_CONNECTIONS=$CONNECTIONS
if [[ $TLS == 1 ]]; then
    TLS_DIR=$WORK/pki
    java -jar "$CHARGE_JAR" pki -d "$TLS_DIR" >/dev/null || die "could not make the TLS certificates"
    TLS_ARGS=(--tls-ca "$TLS_DIR/ca.pem")
    # As run.sh warms a TLS server (see TLS_WARMUP_C there): at most 100 connections, 50 handshakes at a time.
    WARM_ARGS=(--tls-ca "$TLS_DIR/ca.pem" --connect-in-flight 50)
    WARM_CONNECTIONS=$((CONNECTIONS < 100 ? CONNECTIONS : 100))
fi
start_server "$WORK" "$SPEC" 0 "$TLS_DIR"
warm_up "$SERVER_PORT" "$WARM_CONNECTIONS" "${WARM_ARGS[@]}"
# Record during the load only (not the start-up): Java samples every 1 ms, native every 20 ms.
jcmd "$SERVER_PID" JFR.start name=load settings=profile method-profiling=max >/dev/null
curl -s "http://127.0.0.1:$SERVER_HTTP/metrics" >"$OUT/metrics-before.txt" || true
thread_ticks "$SERVER_PID" >"$WORK/before"
T0=$(date +%s.%N)
# shellcheck disable=SC2086
run_charge -p "$SERVER_PORT" -n "$READINGS" -c "$CONNECTIONS" -s "$SENSORS" "${TLS_ARGS[@]}" $CHARGE_OPTS
T1=$(date +%s.%N)
printf '%s\n' "$CHARGE_OUT" >"$OUT/charge.txt"
# Whatever the load's outcome, the recording of it is kept and summarised: a failing run is the one worth reading.
thread_ticks "$SERVER_PID" >"$WORK/after" || say "the server is gone: no CPU per thread"
curl -s "http://127.0.0.1:$SERVER_HTTP/metrics" >"$OUT/metrics.txt" || true
jcmd "$SERVER_PID" JFR.stop name=load filename="$OUT/server.jfr" >/dev/null || say "the recording could not be stopped"
stop_server

{
    echo "Server threads during the load ($STORE, $READINGS readings over $CONNECTIONS connections${TLS_DIR:+ over TLS}${CHARGE_OPTS:+ ($CHARGE_OPTS)}, $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.2f", b - a }') s"
    echo "including the load generator's start): seconds on a CPU (utime+stime), waiting for a CPU (runnable but"
    echo "not running: the 2 cores were busy), and the rest of the time (blocked: I/O such as fsync, or waiting for work)."
    printf '  %7s %8s %8s  %s\n' cpu runnable blocked thread
    if [[ -s $WORK/after ]]; then
        # By thread id (several threads may share a 15-character name); the process's CPU less that of the live
        # threads is what threads that ended during the load used.
        awk -F'\t' -v ticks="$TICKS" -v wall="$(awk -v a="$T0" -v b="$T1" 'BEGIN { print b - a }')" '
            FNR == NR { name[$1] = $2; c[$1] = $3; q[$1] = $4; next }
            $1 == "process" { process = ($3 - c["process"]) / ticks; next }
            {
                known = ($1 in c) && name[$1] == $2
                cpu = ($3 - (known ? c[$1] : 0)) / ticks; runq = ($4 - (known ? q[$1] : 0)) / 1e9
                live += cpu
                if (cpu >= 0.01) printf "  %7.2f %8.2f %8.2f  %s\n", cpu, runq, wall - cpu - runq, $2
            }
            END { if (process - live >= 0.01) printf "  %7.2f %8s %8s  %s\n", process - live, "", "", "(threads that ended during the load)" }' \
            "$WORK/before" "$WORK/after" | sort -rn
    fi
    echo
    if [[ -s $OUT/metrics.txt ]] && ((READINGS > 0)); then
        echo "Store commits during the load (from /metrics): $(awk '
            FNR == NR && /^serveur_store_commit_seconds_count/ { n0 = $2 } FNR == NR && /^serveur_store_commit_seconds_sum/ { s0 = $2 }
            FNR != NR && /^serveur_store_commit_seconds_count/ { n = $2 - n0 } FNR != NR && /^serveur_store_commit_seconds_sum/ { s = $2 - s0 }
            END { if (n > 0) printf "%d commits, %.2f s in all, %.1f ms on average, %.0f readings per commit on average", n, s, 1000 * s / n, '"$READINGS"' / n }' \
            "$OUT/metrics-before.txt" "$OUT/metrics.txt")"
        echo
    fi
    if [[ -s $OUT/server.jfr ]]; then
        java -cp "$CHARGE_JAR" fr.mesures.bench.charge.Charge jfr "$OUT/server.jfr" --top 15
    fi
} | tee "$OUT/summary.txt"
echo "recording: $OUT/server.jfr; summary: $OUT/summary.txt" >&2
if [[ -z $CHARGE_JSON ]] || ((CHARGE_STATUS > 1)); then die "the load generator could not run (exit $CHARGE_STATUS)"; fi
exit "$CHARGE_STATUS"
