#!/usr/bin/env bash
# Measures the spine on this machine: dev start-up time (after the build), idle RSS of the server,
# GET /v1/me and /healthz under h2load over h2c and over HTTP/1.1, and checks /metrics with promtool.
#
#   Benchmarks/http-load.sh [requests] [clients] [streams per client]
#
# Needs h2load and promtool: apt-get install -y nghttp2-client prometheus
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-50000}
clients=${2:-16}
streams=${3:-8}
port=${SWITCHYARD_BENCH_PORT:-18180}

for tool in h2load promtool curl; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y nghttp2-client prometheus curl" >&2; exit 1; }
done

. Benchmarks/dev-server.sh

start_dev "$port"; first=$elapsed
stop_process "$server"
start_dev "$port"; again=$elapsed
echo "dev start-up to ready: first run (initdb + migrations) ${first} ms, second run ${again} ms"

# `serve` on its own, against the dev cluster's database as the application role.
pgdata="$workdir/.switchyard/postgres/pgdata"
pgport=$(sed -n 4p "$pgdata/postmaster.pid")
password=$(cat "$workdir/.switchyard/postgres/application-password")
admin=$(credential admin_key)
key=$(credential demo_tenant_key)
serve_port=$((port + 1))
began=$(date +%s%N)
SWITCHYARD_DATABASE_URL="postgres://switchyard_api:$password@127.0.0.1:$pgport/switchyard" SWITCHYARD_ADMIN_KEY="$admin" \
    SWITCHYARD_KEYRING_FILE="$workdir/.switchyard/keyring.json" \
    "$binary" serve --port "$serve_port" >"$workdir/serve.log" 2>&1 &
server=$!
pids="$pids $server"
wait_ready "$serve_port" "$server" "$workdir/serve.log"
echo "serve start-up to ready: $(( ($(date +%s%N) - began) / 1000000 )) ms"
port=$serve_port
sleep 2
echo "idle serve RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status)"
curl -sf --http2-prior-knowledge -o /dev/null -w "curl --http2-prior-knowledge /healthz: HTTP/%{http_version} %{http_code}\n" "http://127.0.0.1:$port/healthz"

rate() {  # prints requests/s of one h2load run, and fails on any non-2xx
    local output
    output=$(h2load "$@" 2>&1)
    local ok=$(echo "$output" | awk '/status codes:/ {print $3}')
    local done=$(echo "$output" | awk '/^requests:/ {print $8}')
    [ "$ok" = "$done" ] || { echo "$output" >&2; echo "non-2xx responses" >&2; exit 1; }
    echo "$output" | awk '/^finished in/ {gsub(",", "", $4); print $4}'
}

h2load -n 2000 -c "$clients" -m "$streams" -H "authorization: Bearer $key" "http://127.0.0.1:$port/v1/me" >/dev/null  # warm-up
me_h2=$(rate -n "$requests" -c "$clients" -m "$streams" -H "authorization: Bearer $key" "http://127.0.0.1:$port/v1/me")
me_h1=$(rate --h1 -n "$requests" -c "$clients" -H "authorization: Bearer $key" "http://127.0.0.1:$port/v1/me")
health_h2=$(rate -n "$requests" -c "$clients" -m "$streams" "http://127.0.0.1:$port/healthz")
echo "GET /v1/me  h2c ($clients connections x $streams streams): $me_h2 req/s"
echo "GET /v1/me  HTTP/1.1 ($clients connections):          $me_h1 req/s"
echo "GET /healthz h2c (no database):                       $health_h2 req/s"
python3 -c "import sys; a,b,c=map(float,sys.argv[1:]); print(f'ratios: h2c/HTTP1.1 = {a/b:.2f}, /v1/me / /healthz = {a/c:.2f}')" "$me_h2" "$me_h1" "$health_h2"
echo "RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status)"

curl -s "http://127.0.0.1:$port/metrics" | promtool check metrics && echo "promtool check metrics: OK"
