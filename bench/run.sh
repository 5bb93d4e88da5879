#!/usr/bin/env bash
# `make bench`: a short benchmark on loopback, written into BENCHMARKS.md.
#
# Starts a throwaway PostgreSQL, builds the server and the load tool from
# this tree, then runs, one after the other on this machine:
#   1. the ceilings (bench/ceiling.sh): pgbench with the store's statements,
#      and with the cheapest SQL for the same answer (prepared, no count, a
#      minimal schema for the insert);
#   2. tasks-bench, closed loop: every scenario over every protocol, against
#      a tasksd it starts (its RSS sampled throughout);
#   3. h2load against that same server (bench/h2load.sh);
#   4. tasks-bench, open loop: the mix at a fixed rate;
#   5. tasks-bench watch: 1,000 and 10,000 open WatchTasks streams, idle and
#      under open-loop writers, and the write throughput with 0 and 1,000
#      watches, back to back (about three and a half minutes).
# and replaces the generated section of BENCHMARKS.md with the results.
#
# Environment: BENCH_DURATION (each tasks-bench run, default 3s),
# BENCH_CEILING_SECONDS (5), BENCH_H2LOAD_SECONDS (5), BENCH_RATE (2000),
# BENCH_OPEN_DURATION (10s), BENCH_WATCH=0 to skip the watch scenario,
# BENCH_WATCHES (1000,10000), BENCH_WATCH_RATES (250,500),
# BENCH_WATCH_DURATION (5s), BENCH_OUT (BENCHMARKS.md), BENCH_TITLE,
# BENCH_TASKSD (a tasksd binary to measure instead of building this tree's),
# BENCH_KEEP=1 to keep the work directory (raw results, server log).
set -euo pipefail

cd "$(dirname "$0")/.."
duration=${BENCH_DURATION:-3s}
out=${BENCH_OUT:-BENCHMARKS.md}
work=$(mktemp -d /tmp/tasks-bench.XXXXXX)
bench_pid=
pg_proc=
cleanup() {
	[ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null && wait "$bench_pid" 2>/dev/null || true
	[ -n "$pg_proc" ] && kill "$pg_proc" 2>/dev/null && wait "$pg_proc" 2>/dev/null || true
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "results kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

command -v pgbench >/dev/null || { echo "pgbench not found (postgresql-client)" >&2; exit 1; }
command -v h2load >/dev/null || { echo "h2load not found: apt-get install nghttp2-client" >&2; exit 1; }

echo "== building" >&2
if [ -n "${BENCH_TASKSD:-}" ]; then
	cp "$BENCH_TASKSD" "$work/tasksd" # a server built elsewhere, for before/after comparisons
else
	go build -o "$work/tasksd" ./cmd/tasksd
fi
go build -o "$work/tasks-bench" ./cmd/tasks-bench
go build -o "$work/pgtest" ./cmd/pgtest

# The throwaway cluster the Go tests use (internal/pgtest): no durability,
# 300 connections; it writes its URL and postmaster pid to a ready file.
echo "== starting PostgreSQL" >&2
"$work/pgtest" -ready-file "$work/pg.json" &
pg_proc=$!
until [ -e "$work/pg.json" ]; do
	kill -0 "$pg_proc" 2>/dev/null || { echo "pgtest failed" >&2; exit 1; }
	sleep 0.2
done
db=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$work/pg.json")
pg_pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$work/pg.json")
DATABASE_URL=$db LOG_LEVEL=warn "$work/tasksd" migrate up >/dev/null

{
	echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "machine:  $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
	echo "go:       $(go version | cut -d' ' -f3-)"
	echo "postgres: $("${PGTEST_BINDIR:-/usr/lib/postgresql/15/bin}/postgres" --version | cut -d' ' -f3-) (fsync off, loopback TCP), $(pgbench --version)"
	echo "h2load:   $(h2load --version | head -1)"
	echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) before the run"
} >"$work/machine.txt"

echo "== ceiling (pgbench)" >&2
DURATION=${BENCH_CEILING_SECONDS:-5} bench/ceiling.sh "$db" >"$work/ceiling.jsonl"

echo "== tasks-bench, closed loop" >&2
"$work/tasks-bench" run -server "$work/tasksd" -database-url "$db" -pg-pid "$pg_pid" -server-log "$work/tasksd.log" \
	-scenarios get,list,list-deep,list-deep-first,update,mix,create -protocols all \
	-d "$duration" -warmup 1s -pause 500ms -q \
	-json "$work/api.json" -h2load-dir "$work/h2" -hold >"$work/api.txt" &
bench_pid=$!
while [ ! -e "$work/h2/ready" ]; do
	kill -0 "$bench_pid" 2>/dev/null || { echo "tasks-bench failed" >&2; exit 1; }
	sleep 1
done
cat "$work/api.txt" >&2

echo "== h2load" >&2
DURATION=${BENCH_H2LOAD_SECONDS:-5} WARMUP=1 bench/h2load.sh "$work/h2" >"$work/h2load.jsonl"
kill "$bench_pid"
wait "$bench_pid" || true
bench_pid=

echo "== tasks-bench, open loop" >&2
"$work/tasks-bench" run -server "$work/tasksd" -database-url "$db" -pg-pid "$pg_pid" -server-log "$work/tasksd-open.log" \
	-scenarios mix -rate "${BENCH_RATE:-2000}" -d "${BENCH_OPEN_DURATION:-10s}" -warmup 2s -q \
	-json "$work/open.json" >&2

watch_args=()
if [ "${BENCH_WATCH:-1}" != 0 ]; then
	echo "== tasks-bench watch" >&2
	"$work/tasks-bench" watch -server "$work/tasksd" -database-url "$db" -pg-pid "$pg_pid" -server-log "$work/tasksd-watch.log" \
		-watches "${BENCH_WATCHES:-1000,10000}" -rates "${BENCH_WATCH_RATES:-250,500}" \
		-d "${BENCH_WATCH_DURATION:-5s}" -warmup 2s -throughput-d "${BENCH_WATCH_DURATION:-5s}" -rounds 2 -q \
		-json "$work/watch.json" >&2
	watch_args=(-watch "$work/watch.json")
fi

echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) after the run" >>"$work/machine.txt"
"$work/tasks-bench" markdown -title "${BENCH_TITLE:-Latest \`make bench\`}" -machine "$work/machine.txt" \
	-ceiling "$work/ceiling.jsonl" -h2load "$work/h2load.jsonl" -api "$work/api.json" -open "$work/open.json" \
	"${watch_args[@]}" -into "$out"
echo "== wrote $out" >&2
