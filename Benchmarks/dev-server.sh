# Sourced by the benchmark scripts: a release build of `switchyard`, a throwaway working directory,
# `start_dev PORT` (sets $server and $elapsed, the ms until /readyz answers) and a cleanup that stops
# every process in $pids with SIGINT (SIGKILL after 10 s, reported) and removes the directory.

swift build -c release --product switchyard >/dev/null 2>&1
binary="$(swift build -c release --show-bin-path)/switchyard"
workdir=$(mktemp -d /var/tmp/switchyard-bench-XXXXXX)
chmod 755 "$workdir"  # the private cluster runs as `postgres` when started by root
pids=""

stop_process() {
    kill -INT "$1" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    echo "process $1 did not stop within 10 s of SIGINT" >&2
    kill -9 "$1"
}

cleanup() {
    for pid in $(echo $pids | tr " " "\n" | tac); do stop_process "$pid"; done  # serve before the dev cluster it uses
    rm -rf "$workdir"
}
trap cleanup EXIT

# The per-key rate limit would otherwise answer most requests with 429.
export SWITCHYARD_RATE_LIMIT_PER_SECOND=1000000 SWITCHYARD_RATE_LIMIT_BURST=1000000 SWITCHYARD_LOG_LEVEL=warning

wait_ready() {  # PORT PID LOG
    until curl -sf "http://127.0.0.1:$1/readyz" >/dev/null 2>&1; do
        kill -0 "$2" 2>/dev/null || { cat "$3"; exit 1; }
        sleep 0.02
    done
}

start_dev() {  # PORT; sets $server and $elapsed
    local began=$(date +%s%N)
    (cd "$workdir" && exec "$binary" dev --port "$1" >"$workdir/dev.log" 2>&1) &
    server=$!
    pids="$pids $server"
    wait_ready "$1" "$server" "$workdir/dev.log"
    elapsed=$(( ($(date +%s%N) - began) / 1000000 ))
}

credential() {  # FIELD of .switchyard/dev-credentials.json
    python3 -c "import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$workdir/.switchyard/dev-credentials.json" "$1"
}
