#!/usr/bin/env bash
# Compares server configurations on the same load, interleaved, and records the result: how the defaults in
# docs/performance.md ("Tuning and defaults") were chosen.
#
#   bench/compare.sh --store sqlite --rounds 3 "--max-batch 10000" "--max-batch 25000" "--max-batch 100000"
#   bench/compare.sh --store file -n 200000 -c 1000 "" "--workers 2"
#   bench/compare.sh "-J-Xmx64m" "" "-J-Xmx256m" "--sqlite-synchronous NORMAL"
#
# Each VARIANT is server flags; a word starting with -J is a JVM option instead (the heap is -Xmx128m unless a
# variant says otherwise). An empty variant is the defaults. For each round and each variant, in turn (A, B, C, A,
# B, C, ...: a noisy minute on a shared machine hits one run of each, not every run of one): a fresh server and
# store, a warm-up of 1,000,000 readings over the same connections (other keys), then REPEAT measured loads of
# the same size; it prints the median readings/s of the round, and the server's peak RSS and CPU seconds by thread
# over the measured loads. The table is appended to bench/TUNING.md with date, commit and machine (RECORD=0: print only).
#
# Options: --store sqlite|file (default sqlite), -n READINGS (1000000), -c CONNECTIONS (100), --rounds N (2).
# Environment: REPEAT (3), WARMUP (1000000), RECORD (1). Only 127.0.0.1 and free ports; every process it starts is
# stopped by its PID.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STORE=sqlite READINGS=1000000 CONNECTIONS=100 ROUNDS=2
REPEAT=${REPEAT:-3} WARMUP=${WARMUP:-1000000} RECORD=${RECORD:-1}
while (($#)); do
    case $1 in
        --store) STORE=$2; shift 2 ;;
        -n) READINGS=$2; shift 2 ;;
        -c) CONNECTIONS=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
(($#)) || { echo "usage: bench/compare.sh [--store sqlite|file] [-n R] [-c C] [--rounds N] VARIANT..." >&2; exit 2; }
VARIANTS=("$@")
[[ $STORE == sqlite || $STORE == file ]] || { echo "--store is sqlite or file" >&2; exit 2; }

[[ -f $ROOT/serveur/target/serveur.jar && -f $ROOT/bench/target/charge.jar ]] \
    || (cd "$ROOT" && mvn -B -q -DskipTests -pl bench -am package)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mesures-compare.XXXXXX")
cp "$ROOT/serveur/target/serveur.jar" "$ROOT/bench/target/charge.jar" "$WORK/"
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU ticks of the server's threads, grouped as Report.groupThreads groups them for run.sh's tables.
thread_ticks() {
    local t
    for t in /proc/"$SERVER_PID"/task/*; do
        printf '%s %s\n' "$(tr ' ' '_' < "$t/comm")" "$(sed 's/.*) //' "$t/stat" | awk '{ print $12 + $13 }')"
    done | awk '{ g = "other" }
        $1 ~ /^C[12]_/ { g = "JIT" } $1 ~ /worker/ { g = "workers" } $1 ~ /writer/ { g = "writer" }
        $1 ~ /selecto/ { g = "selector" } $1 ~ /^(GC_|G1_|VM_Thread|Parallel|ZGC)/ { g = "GC" }
        { ticks[g] += $2 } END { for (g in ticks) print g, ticks[g] }' | sort
}

commas() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<< "$1"; }

charge() { java -Xms1g -Xmx1g -jar "$WORK/charge.jar" -p "$1" -c "$CONNECTIONS" -n "$2" --base-millis "$3" 2>&1; }

# run_variant VARIANT ROUND: prints "median|runs|cpu by thread"
run_variant() {
    local jvm=(-Xmx128m) flags=() word dir port i rate rates=() before after
    for word in $1; do
        if [[ $word == -J* ]]; then jvm+=("${word#-J}"); else flags+=("$word"); fi
    done
    dir=$(mktemp -d "$WORK/server.XXXX")
    local store=sqlite:$dir/mesures.db
    [[ $STORE == file ]] && store=file:$dir/donnees.txt
    java "${jvm[@]}" -jar "$WORK/serveur.jar" --bind 127.0.0.1 --port 0 --http-port -1 --store "$store" \
        ${flags[@]+"${flags[@]}"} > "$dir/log" 2>&1 &
    SERVER_PID=$!
    for i in $(seq 300); do
        port=$(grep -oP 'listening on [^:]+:\K\d+' "$dir/log" 2>/dev/null) && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$dir/log" >&2; exit 1; }
        sleep 0.1
    done
    [[ -n ${port:-} ]] || { echo "the server did not start" >&2; exit 1; }
    charge "$port" "$WARMUP" 1600000000000 > /dev/null
    before=$(thread_ticks)
    # Peak RSS of the measured loads only (as run.sh): reset the high-water mark after the warm-up.
    echo 5 > /proc/"$SERVER_PID"/clear_refs 2>/dev/null || true
    for i in $(seq "$REPEAT"); do
        rate=$(charge "$port" "$READINGS" $((1700000000000 + i * 100000000)) | grep -oP '= \K[0-9,]+(?= readings/s)' | tr -d ,)
        [[ -n $rate ]] || { echo "a load failed" >&2; exit 1; }
        rates+=("$rate")
    done
    after=$(thread_ticks)
    local rss
    rss=$(awk '/^VmHWM/ { printf "%d", $2 / 1024 }' /proc/"$SERVER_PID"/status)
    kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
    local median
    median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(((REPEAT + 1) / 2))p")
    local ticks_per_s
    ticks_per_s=$(getconf CLK_TCK)
    printf '%s|%s|%s|%s\n' "$median" "${rates[*]}" "$rss" "$(join <(echo "$before") <(echo "$after") \
        | awk -v hz="$ticks_per_s" '{ printf "%s %.2f, ", $1, ($3 - $2) / hz }' | sed 's/, $//')"
}

COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
[[ -z $(git -C "$ROOT" status --porcelain -- serveur protocole bench) ]] || COMMIT="$COMMIT (+ local changes)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
for round in $(seq "$ROUNDS"); do
    for variant in "${VARIANTS[@]}"; do
        IFS='|' read -r median runs rss cpu < <(run_variant "$variant")
        row="| ${variant:-(defaults)} | $round | $(commas "$median") | $runs | $rss | $cpu |"
        echo "$row"
        rows+=("$row")
    done
done

table=$(
    echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) · commit $COMMIT · $STORE, $(commas "$READINGS") readings over $CONNECTIONS connections"
    echo
    echo "Machine: $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r), $(java -version 2>&1 | head -1); load average before/after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Each row: a fresh server (-Xmx128m unless the variant says otherwise), warmed up with $(commas "$WARMUP") readings, then $REPEAT measured loads; readings/s is their median; peak RSS and CPU (by thread, in seconds) are the server's over the $REPEAT loads."
    echo
    echo "| variant | round | readings/s | runs | peak RSS (MB) | server CPU (s) |"
    echo "|---|---:|---:|---|---:|---|"
    printf '%s\n' "${rows[@]}"
    echo
)
if [[ $RECORD == 1 ]]; then
    [[ -f $ROOT/bench/TUNING.md ]] || printf '# Tuning comparisons\n\nEach section is one run of `bench/compare.sh` (docs/performance.md, "Tuning and defaults", says what was decided from it).\n\n' > "$ROOT/bench/TUNING.md"
    printf '%s\n\n' "$table" >> "$ROOT/bench/TUNING.md"
    echo "appended to bench/TUNING.md" >&2
fi
