#!/usr/bin/env bash
# The fault suite (`make faults`), against real processes on this machine:
#
#   1. kill -9 of tasksd, KILLS times, under 16 concurrent writers, on
#      PostgreSQL and on SQLite; afterwards every acknowledged write is
#      checked (tasks-bench crash);
#   2. PostgreSQL restarted, crashed and stopped for 10 s under the same
#      writers, then the same check (tasks-bench outage);
#   3. the slow-client attacks and one user's flood, each while a normal
#      user calls: the suite fails when fewer than MIN_SUCCESS percent of
#      that user's calls succeed (bench/attacks.sh).
#
# Every part runs, then the script fails if any did. RELIABILITY.md has the
# figures of a run and what they mean. About five minutes; D is each
# attack's length (default 15s), ATTACKS replaces the list of attacks.
set -uo pipefail
cd "$(dirname "$0")/.."
kills=${KILLS:-15}
export D=${D:-15s} MIN_SUCCESS=${MIN_SUCCESS:-99} ATTACKER_NICE=${ATTACKER_NICE:-19}
read -r -a attacks <<<"${ATTACKS:-none slow-h2 slow-h1 flood slow-health idle-h1 idle-h2 health-watch rapid-reset}"
attacks+=("slow-h2:-conns 2000 -n 1")

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait; rm -rf "$work"' EXIT
go build -o "$work/tasksd" ./cmd/tasksd &&
	go build -o "$work/tasks-bench" ./cmd/tasks-bench &&
	go build -o "$work/pgtest" ./cmd/pgtest || exit 1
"$work/pgtest" -ready-file "$work/pg.json" -c synchronous_commit=on &
until [ -s "$work/pg.json" ]; do
	kill -0 $! 2>/dev/null || { echo "pgtest failed" >&2; exit 1; }
	sleep 0.1
done
db=$(sed 's/.*"url":"\([^"]*\)".*/\1/' "$work/pg.json")

failed=()
part() { # name command...: runs one part, notes its failure
	local name=$1
	shift
	echo
	echo "## $name"
	"$@" || failed+=("$name")
}
part "kill -9 under writers, PostgreSQL" \
	"$work/tasks-bench" crash -server "$work/tasksd" -database-url "$db" -kills "$kills" -server-log "$work/crash-pg.log"
part "kill -9 under writers, SQLite" \
	"$work/tasks-bench" crash -server "$work/tasksd" -database-url "$work/tasks.db" -kills "$kills" -server-log "$work/crash-sqlite.log"
part "PostgreSQL restart, crash and outage under writers" \
	"$work/tasks-bench" outage -server "$work/tasksd" -server-log "$work/outage.log"
part "slow clients and floods, with a normal user calling (at least $MIN_SUCCESS% must succeed)" \
	bench/attacks.sh "$work/tasksd" "$db" "${attacks[@]}"

echo
if [ ${#failed[@]} -gt 0 ]; then
	printf 'FAILED: %s\n' "${failed[@]}"
	exit 1
fi
echo "every fault held"
