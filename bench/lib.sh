# shellcheck shell=bash disable=SC2034  # (the variables set here are read by the scripts that source it)
# What bench/run.sh and bench/profile.sh share, so that both measure a server the same way: sourced, not run.
# The caller sets ROOT (the repository), SAY_AS (its name in messages), SERVER_HEAP, SYNC, SERVER_OPTS and WARMUP,
# and runs under `set -Eeuo pipefail`.

SERVEUR_JAR=$ROOT/serveur/target/serveur.jar
CHARGE_JAR=$ROOT/bench/target/charge.jar
# The generator holds every payload in direct buffers (4,000,000 readings are 296 MB).
CHARGE_JVM=(-Xms1g -Xmx1g -XX:MaxDirectMemorySize=2g)
TICKS=$(getconf CLK_TCK)
# The warm-up's readings are a day before the measured ones: other keys, so every measured reading is new.
WARMUP_BASE=$((1764000000000 - 86400000))

say() { printf '[%s %s] %s\n' "$SAY_AS" "$(date +%H:%M:%S)" "$*" >&2; }
# 3, not 1: 1 is a measurement that ran and failed (a target, a load); 3 a step that could not run at all.
die() { say "ERROR: $*"; exit 3; }

# ------------------------------------------------------------------------------------------- processes we own
# Every process a script starts goes into PIDS, and only those are stopped, by PID.
PIDS=()
forget_pid() { local p=$1 i; for i in "${!PIDS[@]}"; do [[ ${PIDS[$i]} == "$p" ]] && unset 'PIDS[i]'; done; return 0; }

# For the EXIT trap: SIGTERM to every process still ours, then SIGKILL to any still there 5 s later.
stop_owned() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && { kill -TERM "$pid" 2>/dev/null || true; }
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    PIDS=()
}

# ------------------------------------------------------------------------------------------- jars
# Builds the jars when one is missing. A jar that is there is used as it is, not rebuilt: rebuilding the shared work
# tree may fail on someone's edit in progress, or swap a jar under a run of someone else's. So, instead, JARS_WARNING
# says (and stderr too) when a jar is older than a source file it is built from: then it may not be this commit's
# code, and the results must say so.
ensure_jars() {
    if [[ ! -f $SERVEUR_JAR || ! -f $CHARGE_JAR ]]; then
        say "building the jars (mvn -B -q -DskipTests -pl bench -am package)"
        (cd "$ROOT" && mvn -B -q -DskipTests -pl bench -am package) || die "the build failed"
    fi
    JARS_WARNING=''
    local jar newer
    for jar in serveur charge; do
        if [[ $jar == serveur ]]; then
            newer=$(find "$ROOT/serveur/src/main" "$ROOT/protocole/src/main" "$ROOT/common/src/main" \
                "$ROOT/serveur/pom.xml" "$ROOT/protocole/pom.xml" "$ROOT/common/pom.xml" -type f \
                -newer "$SERVEUR_JAR" -print -quit)
        else
            newer=$(find "$ROOT/bench/src/main" "$ROOT/protocole/src/main" "$ROOT/bench/pom.xml" \
                -type f -newer "$CHARGE_JAR" -print -quit)
        fi
        [[ -z $newer ]] || JARS_WARNING+="${JARS_WARNING:+; }$jar.jar is older than ${newer#"$ROOT"/}"
    done
    if [[ -n $JARS_WARNING ]]; then
        JARS_WARNING+=": it may not hold the code of this commit (mvn -B -q -DskipTests -pl bench -am package rebuilds it)"
        say "WARNING: $JARS_WARNING"
    fi
}

# ------------------------------------------------------------------------------------------- /proc
# CPU ticks (user + system) from the content of a /proc stat file.
stat_ticks() { local s=${1##*) }; set -- $s; echo $((${12} + ${13})); }

# thread_ticks PID: the CPU of the whole process (threads that have exited included), then of each live thread, as
# near the same moment as /proc allows. Lines of tab-separated fields: "process - ticks 0" first, then
# "tid name ticks runnable_ns" per thread: name as the kernel keeps it (15 characters, so several threads may share
# one: the tid tells them apart), runnable_ns the time it waited for a CPU while runnable (schedstat).
thread_ticks() {
    local t s comm q
    s=$(<"/proc/$1/stat") || return 1   # (explicit: errexit is off when the caller tests the status)
    printf 'process\t-\t%s\t0\n' "$(stat_ticks "$s")"
    for t in /proc/"$1"/task/*; do
        { comm=$(<"$t/comm"); s=$(<"$t/stat"); } 2>/dev/null || continue   # the thread ended meanwhile
        { q=$(<"$t/schedstat"); } 2>/dev/null || q="0 0 0"
        printf '%s\t%s\t%s\t%s\n' "${t##*/}" "$comm" "$(stat_ticks "$s")" "$(set -- $q; echo "$2")"
    done
}

# ------------------------------------------------------------------------------------------- the server
# start_server DIR STORE HTTP_PORT [TLS_DIR]: a fresh server (SERVER_HEAP, SYNC, SERVER_OPTS) on 127.0.0.1 and a free
# port, logging to DIR/server.log; waits until it says which port it got (30 s at most, and not once it has died).
# With TLS_DIR (a folder `charge.jar pki` wrote) the server listens over TLS alone, its plaintext port off. Sets
# SERVER_PID, SERVER_PORT (the TLS port with TLS_DIR), and SERVER_HTTP (empty when HTTP_PORT is -1, off).
start_server() {
    local dir=$1 store=$2 http=$3 tls_dir=${4:-} line
    local listen=(--port 0)
    if [[ -n $tls_dir ]]; then
        listen=(--port -1 --tls-port 0 --tls-cert "$tls_dir/serveur.crt" --tls-key "$tls_dir/serveur.key")
    fi
    mkdir -p "$dir"
    : >"$dir/server.log"   # exists before the server's shell opens it, for the loop below
    # shellcheck disable=SC2086
    java $SERVER_HEAP -jar "$SERVEUR_JAR" --bind 127.0.0.1 "${listen[@]}" --http-port "$http" --store "$store" \
        --sqlite-synchronous "$SYNC" $SERVER_OPTS >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    SERVER_PORT='' SERVER_HTTP=''
    for _ in $(seq 300); do
        line=$(grep -m1 'listening on 127\.0\.0\.1:' "$dir/server.log" || true)
        if [[ -n $line ]]; then
            if [[ -n $tls_dir ]]; then
                SERVER_PORT=$(sed -n 's/.*, TLS on \([0-9]*\).*/\1/p' <<<"$line")
            else
                SERVER_PORT=$(sed 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/' <<<"$line")
            fi
            SERVER_HTTP=$(sed -n 's/.*(HTTP \([0-9]*\)).*/\1/p' <<<"$line")
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$dir/server.log" >&2
    die "the server did not start"
}

# stop_server: SIGTERM (a graceful stop: the server finishes its work in flight), SIGKILL after 60 s.
stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    forget_pid "$SERVER_PID"
    SERVER_PID=
}

# ------------------------------------------------------------------------------------------- the load generator
# run_charge ARGS...: runs the load generator; its lines for a person go to stderr. Sets CHARGE_OUT (all it printed),
# CHARGE_JSON (its result line) and CHARGE_STATUS (0 the load went as it should, 1 it ran and something failed,
# anything else it could not run). Never stops the script: the caller decides. The generator gives up after
# CHARGE_TIMEOUT (default 5m).
run_charge() {
    CHARGE_STATUS=0
    CHARGE_OUT=$(java "${CHARGE_JVM[@]}" -jar "$CHARGE_JAR" --timeout "${CHARGE_TIMEOUT:-5m}" "$@") || CHARGE_STATUS=$?
    [[ -z $CHARGE_OUT ]] || printf '%s\n' "$CHARGE_OUT" | grep -v '^{' | sed 's/^/    /' >&2 || true
    CHARGE_JSON=$(printf '%s\n' "$CHARGE_OUT" | grep '^{' | tail -1 || true)
}

# charge_field NAME: a top-level number or boolean of CHARGE_JSON (empty when absent).
charge_field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" <<<"$CHARGE_JSON"; }

# warm_up PORT CONNECTIONS [charge options...]: WARMUP readings (other keys) over as many connections as the load
# that follows, so that the JIT has compiled the paths that load takes (many connections with little data each is not
# the same code as a few with much); the options (--tls-ca) say how to connect. Sets WARMED to the readings it had
# acknowledged, which the store holds besides the load's; stops the script when the warm-up failed, since what
# follows would not measure a working server.
warm_up() {
    WARMED=0
    ((WARMUP > 0)) || return 0
    local port=$1 connections=$2
    shift 2
    say "warm-up: $WARMUP readings over $connections connections${1:+ ($*)} (server pid $SERVER_PID, port $port)"
    run_charge -p "$port" -n "$WARMUP" -c "$connections" -s 1000 --base-millis "$WARMUP_BASE" "$@"
    [[ $CHARGE_STATUS == 0 && $(charge_field ok) == true ]] || die "the warm-up failed (exit $CHARGE_STATUS)"
    WARMED=$(charge_field acked_readings)
}
