#!/usr/bin/env bash
# HTTP benchmark with wrk on loopback (issue: foundation). Builds the release binary, starts
# `kindred serve` on SQLite and, when available, on a throwaway PostgreSQL, and measures:
#   - authenticated GET /api/v1/me
#   - text diary intake, POST /api/v1/diaries (sealing and job enqueue included; workers on)
# Usage: Benchmarks/http.sh [seconds=15] [connections=64]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
connections=${2:-64}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
swift build -c release --product kindred >&2
bin=.build/release/kindred
work=$(mktemp -d /tmp/kindred-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -d "$work/pg" ] && scripts/test-postgres stop "$work/pg" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/diary.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"text":"Сегодня был обычный день номер ' .. n .. ', гуляла в парке, мне нужен чайник."}')
end
LUA

run() { # name database-url
  local name=$1 url=$2 port=$((18000 + RANDOM % 1000))
  KINDRED_DATABASE_URL=$url KINDRED_DATA_DIR="$work/$name-data" KINDRED_KEY_FILE="$work/$name.key" \
    KINDRED_ENCRYPTION_KEY=${KINDRED_ENCRYPTION_KEY_BENCH:-} KINDRED_LOG_LEVEL=warning \
    "$bin" serve --port "$port" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  local token
  token=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-pass","displayName":"Bench","birthDate":"1990-01-01","locale":"ru","city":"Москва"}' |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
  echo "== $name: GET /api/v1/me (c=$connections, ${seconds}s)"
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/me" |
    grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors"
  echo "== $name: POST /api/v1/diaries (c=$connections, ${seconds}s)"
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/diary.lua" -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/diaries" | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors"
  sleep 2
  echo "   queue after the run: $(curl -s "http://127.0.0.1:$port/ready")"
  kill "${pids[-1]}"
  wait "${pids[-1]}" 2>/dev/null || true
}

run sqlite "sqlite:$work/bench.sqlite"
if url=$(scripts/test-postgres start "$work/pg" 2>/dev/null); then
  KINDRED_ENCRYPTION_KEY_BENCH=$(head -c 32 /dev/urandom | base64) run postgres "$url"
else
  echo "== postgres: skipped (PostgreSQL server not installed)"
fi
