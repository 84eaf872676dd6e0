#!/usr/bin/env bash
# `make bench`: the service as production runs it (gunicorn with 2 workers, two Celery workers, PostgreSQL,
# Redis) on a fresh database seeded with BENCH_BATCHES batches; then bench/run.py measures it against the
# baselines of the same run and writes bench/results.json. Everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BATCHES=${BENCH_BATCHES:-100000}
PORT=${BENCH_PORT:-5098}
REDIS_DB=${BENCH_REDIS_DB:-12}  # emptied at start and end: pick one no other service uses
# A database given by name that already exists is measured as it is (no seeding) and kept afterwards;
# likewise a work directory given by name (it holds the signing key that database's certificates need).
DB=${BENCH_DATABASE:-certify_bench_$$}
WORK=${BENCH_WORK_DIR:-}
KEEP_WORK=1
if [ -z "$WORK" ]; then
  WORK=$(mktemp -d)
  KEEP_WORK=0
fi
mkdir -p "$WORK"

# wrk is the load generator; fonts-nanum is the Hangul font the certificate PDF embeds in production (CI has it
# too), so certificate issue is measured as it really renders.
export DEBIAN_FRONTEND=noninteractive
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
dpkg -s fonts-nanum >/dev/null 2>&1 || need+=(fonts-nanum)
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
fi

# The same services as CI (.ci/run): started when they are not running already.
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

export CERTIFY_ENV=production
# Kept in the work directory: a database measured again needs the key its stored secrets were encrypted under.
[ -f "$WORK/secret_key" ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' \
  >"$WORK/secret_key")
CERTIFY_SECRET_KEY=$(cat "$WORK/secret_key")
export CERTIFY_SECRET_KEY
export CERTIFY_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/$DB"
export CERTIFY_BROKER_URL="redis://127.0.0.1:6379/$REDIS_DB"
export CERTIFY_TASK_QUEUE="certify-bench-$$"
export CERTIFY_INSTANCE_DIR="$WORK/instance"
export CERTIFY_STORAGE_DIR="$WORK/documents"
export CERTIFY_SIGNING_KEY_FILE="$WORK/signing-key.pem"
export CERTIFY_PUBLIC_URL="http://127.0.0.1:$PORT"
export CERTIFY_BENCH_BASELINES=1
# No beat runs here, so no sweep: every check run the bench queues is published by the bench itself.
export BENCH_BASE_URL="http://127.0.0.1:$PORT"

DROP_DB=1
if [ -n "${BENCH_DATABASE:-}" ] && psql -h 127.0.0.1 -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  DROP_DB=0
  SEEDED=1
else
  [ -n "${BENCH_DATABASE:-}" ] && DROP_DB=0
  SEEDED=0
fi

pids=()
cleanup() {
  status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$DROP_DB" = 1 ]; then
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  redis-cli -n "$REDIS_DB" flushdb >/dev/null 2>&1 || true
  if [ "$status" != 0 ]; then
    echo "--- gunicorn log"; tail -40 "$WORK/gunicorn.log" 2>/dev/null || true
    echo "--- worker logs"; tail -20 "$WORK"/worker-*.log 2>/dev/null || true
  fi
  [ "$KEEP_WORK" = 1 ] || rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The bench's own Redis database: queue, bindings and login-limit counters of earlier runs go.
redis-cli -n "$REDIS_DB" flushdb >/dev/null

if [ "$SEEDED" = 0 ]; then
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE \"$DB\""
  .venv/bin/flask --app certify db upgrade >"$WORK/upgrade.log" 2>&1 || { cat "$WORK/upgrade.log"; exit 1; }
  .venv/bin/flask --app certify seed-catalogue >/dev/null
  echo "seeding $BATCHES batches into $DB ..."
  start=$(date +%s)
  .venv/bin/flask --app certify bench-seed --batches "$BATCHES"
  echo "seeded in $(( $(date +%s) - start )) s"
else
  echo "measuring the existing database $DB (not seeded again)"
  .venv/bin/flask --app certify db upgrade >"$WORK/upgrade.log" 2>&1 || { cat "$WORK/upgrade.log"; exit 1; }
fi
psql -h 127.0.0.1 -U postgres -d "$DB" -qc "VACUUM ANALYZE" >/dev/null

.venv/bin/gunicorn --workers 2 --bind "127.0.0.1:$PORT" --log-level warning --pid "$WORK/gunicorn.pid" \
  "certify:create_app()" >"$WORK/gunicorn.log" 2>&1 &
pids+=($!)
export BENCH_GUNICORN_PID=$!
# Two workers, one task at a time each; the bench's floor task is loaded into these workers only.
for name in bench1 bench2; do
  .venv/bin/celery --app workers worker --concurrency 1 --hostname "$name@%h" --include workers.bench_tasks \
    --without-gossip --without-mingle --loglevel WARNING >"$WORK/worker-$name.log" 2>&1 &
  pids+=($!)
done
export BENCH_WORKER_NAMES="bench1@$(hostname),bench2@$(hostname)"
for _ in $(seq 120); do
  curl -fs "$BENCH_BASE_URL/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done

.venv/bin/python -m bench.run --output bench/results.json
