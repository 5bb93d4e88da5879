#!/usr/bin/env bash
# The database ceilings: pgbench straight to PostgreSQL at the API
# benchmark's concurrency, for GetTask, ListTasks (first page of 50) and
# CreateTask, two ways:
#   - the store's own SQL (get, list, insert, insert1): the statements the
#     store sends, as it sends them (simple-query messages with SET LOCAL), so
#     the server can be compared with its own SQL;
#   - the cheapest SQL for the same answer (get-best, list-best, insert-best):
#     prepared statements, no count(*), no SET LOCAL, and for the insert a
#     minimal schema (ceiling_min.tasks: the primary key and the request-id
#     key only), so the store's SQL can be compared with the best.
# Prints one JSON object per script on stdout (mode, throughput and latency
# percentiles from pgbench's per-transaction log); progress on stderr.
#
#   bench/ceiling.sh DATABASE_URL [SCRIPTS]
#
# SCRIPTS defaults to "get get-best list list-best insert insert1
# insert-best" (bench/ceiling/NAME.sql). A script runs with pgbench's
# -M simple unless a line of its own says "-- mode: prepared" (or
# extended). Environment: CLIENTS (32), DURATION seconds (10), USERS (500)
# and TASKS (60) per user for the ceiling's own rows (user ids ceiling-N, in
# the same tasks table, copied into ceiling_min.tasks), SEED=0 to reuse rows
# seeded earlier.
set -euo pipefail

url=${1:?usage: ceiling.sh DATABASE_URL [SCRIPTS]}
scripts=${2:-get get-best list list-best insert insert1 insert-best}
clients=${CLIENTS:-32}
duration=${DURATION:-10}
users=${USERS:-500}
tasks=${TASKS:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "${SEED:-1}" != 0 ]; then
	echo "ceiling: seeding $users users x $tasks tasks" >&2
	# No statement timeout: tasksd made its own (DB_STATEMENT_TIMEOUT) the
	# role's default, and seeding takes longer.
	PGOPTIONS='-c statement_timeout=0' psql -X -q -v ON_ERROR_STOP=1 -v users="$users" -v tasks="$tasks" -f "$here/ceiling/seed.sql" "$url" >&2
	# No statement timeout: tasksd made its own (DB_STATEMENT_TIMEOUT) the
	# role's default, and seeding takes longer.
	PGOPTIONS='-c statement_timeout=0' psql -X -q -v ON_ERROR_STOP=1 -f "$here/ceiling/seed-min.sql" "$url" >&2
fi

for s in $scripts; do
	mode=$(sed -n 's/^-- mode: *\([a-z]*\) *$/\1/p' "$here/ceiling/$s.sql" | head -1)
	mode=${mode:-simple}
	echo "ceiling: $s ($mode), $clients clients, ${duration}s" >&2
	(cd "$work" && pgbench -n -M "$mode" -c "$clients" -j 2 -T "$duration" \
		-D users="$users" -D rows=$((users * tasks)) \
		-l --log-prefix="$s" -f "$here/ceiling/$s.sql" "$url" >"$s.out" 2>"$s.err") || {
		cat "$work/$s.err" >&2
		exit 1
	}
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/$s.out")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/$s.out")
	# Column 3 of pgbench's log (NAME.PID, NAME.PID.THREAD) is each
	# transaction's latency in µs.
	cat "$work/$s".[0-9]* 2>/dev/null | awk '{print $3}' | sort -n >"$work/lat"
	n=$(wc -l <"$work/lat")
	pct() { awk -v n="$n" -v q="$1" 'NR == int((n - 1) * q) + 1 { printf "%.3f", $1 / 1000; exit }' "$work/lat"; }
	mean=$(awk '{ s += $1 } END { printf "%.3f", s / NR / 1000 }' "$work/lat")
	printf '{"name":"%s","mode":"%s","clients":%d,"duration_s":%d,"tps":%s,"transactions":%d,"failed":%d,"latency_ms":{"mean":%s,"p50":%s,"p90":%s,"p99":%s,"p99_9":%s}}\n' \
		"$s" "$mode" "$clients" "$duration" "$tps" "$n" "${failed:-0}" "$mean" "$(pct 0.5)" "$(pct 0.9)" "$(pct 0.99)" "$(pct 0.999)"
done
