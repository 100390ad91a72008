#!/usr/bin/env bash
# Credential reads under load: latency percentiles and throughput of GET /v1/integrations/{id}/credentials
# (tenant transaction, data-key unwrap from cache, AES-GCM open, audit insert) next to GET /v1/me (tenant
# transaction, one SELECT) and GET /healthz (no database), in one run against `switchyard dev`.
#
#   Benchmarks/credential-read.sh [seconds] [connections]
#
# Needs wrk: apt-get install -y wrk
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-16}
port=${SWITCHYARD_BENCH_PORT:-18280}
command -v wrk >/dev/null || { echo "missing wrk: apt-get install -y wrk" >&2; exit 1; }

. Benchmarks/dev-server.sh
start_dev "$port"
base="http://127.0.0.1:$port"
admin=$(credential admin_key)
json() { python3 -c "import json,sys;print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

tenant=$(curl -sf -X POST "$base/v1/tenants" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"slug":"bench","name":"Bench"}' | json id)
key=$(curl -sf -X POST "$base/v1/tenants/$tenant/api-keys" -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
    -d '{"name":"bench","scopes":["read","write","credentials:read"]}' | json key)
integration=$(curl -sf -X POST "$base/v1/integrations" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"provider":"stripe","credentials":{"api_key":"sk_test_bench_0123456789abcdef"}}' | json id)

run() {  # name path -> one line: req/s and latency percentiles
    local output
    output=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $key" "$base$2")
    if echo "$output" | grep -q "Non-2xx"; then echo "$output" >&2; echo "non-2xx responses for $2" >&2; exit 1; fi
    local rps=$(echo "$output" | awk '/^Requests\/sec/ {print $2}')
    local p50=$(echo "$output" | awk '$1 == "50%" {print $2}')
    local p90=$(echo "$output" | awk '$1 == "90%" {print $2}')
    local p99=$(echo "$output" | awk '$1 == "99%" {print $2}')
    printf "%-36s %10s req/s   p50 %8s   p90 %8s   p99 %8s\n" "$1" "$rps" "$p50" "$p90" "$p99"
    eval "rps_$3=$rps"
}

wrk -t1 -c4 -d2s -H "Authorization: Bearer $key" "$base/v1/integrations/$integration/credentials" >/dev/null  # warm-up
echo "wrk, $connections connections, ${seconds}s each, HTTP/1.1, release build"
run "GET /healthz (no database)" "/healthz" healthz
run "GET /v1/me (one tenant query)" "/v1/me" me
run "GET .../credentials (open + audit)" "/v1/integrations/$integration/credentials" credentials
python3 -c "import sys; c,m,h=map(float,sys.argv[1:]); print(f'ratios: credentials / me = {c/m:.2f}, credentials / healthz = {c/h:.3f}')" "$rps_credentials" "$rps_me" "$rps_healthz"
events=$(curl -sf "$base/v1/audit-events?limit=1" -H "Authorization: Bearer $key" | json data | head -c 200)
echo "audit log after the run (newest): $events"
