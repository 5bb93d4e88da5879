#!/usr/bin/env bash
# Runs each abusive client of `tasks-bench attack` against a fresh tasksd
# while a well-behaved user calls it from another process (open loop,
# VICTIM_RATE calls a second), and prints what each saw: the figures of
# BENCHMARKS.md's "Under abuse". The attacker and the victim are separate
# processes so that neither's scheduling shows up in the other's numbers.
#
#   bench/attacks.sh TASKSD DATABASE_URL [ATTACK[:FLAGS]...]
#
# e.g. bench/attacks.sh ./tasksd postgres://... slow-h2 flood 'slow-h2:-conns 2000 -n 1'
# SERVER_ENV (KEY=VALUE,...) is passed to every server; D is each attack's
# length (default 20s); ATTACKER_NICE runs the attacker at that niceness, so
# that on a small machine its own CPU use does not show up as the server's
# latency (it would run elsewhere).
set -euo pipefail
bin=$1 db=$2
shift 2
attacks=("$@")
[ ${#attacks[@]} -gt 0 ] || attacks=(none slow-h2 slow-h1 flood slow-health idle-h1 idle-h2 health-watch rapid-reset)
d=${D:-20s}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/tasks-bench" ./cmd/tasks-bench
"$work/tasks-bench" jwks -addr 127.0.0.1:0 -key "$work/key" >/dev/null 2>&1 & # creates the key
sleep 1
kill %1
jwks_addr=127.0.0.1:$(( 20000 + RANDOM % 20000 ))
"$work/tasks-bench" jwks -addr "$jwks_addr" -key "$work/key" >/dev/null &
failed=()
for spec in "${attacks[@]}"; do
	name=${spec%%:*}
	flags=""
	[ "$name" = "$spec" ] || flags=${spec#*:}
	rm -f "$work/ready"
	# shellcheck disable=SC2046 # SERVER_ENV is words
	env LISTEN_ADDR=127.0.0.1:0 READY_FILE="$work/ready" DATABASE_URL="$db" AUTH_JWKS_URL="http://$jwks_addr/jwks" \
		AUTH_JWT_SECRET= LOG_LEVEL=warn $(echo "${SERVER_ENV:-}" | tr ',' ' ') "$bin" serve >/dev/null 2>"$work/server.log" &
	server=$!
	until [ -s "$work/ready" ]; do sleep 0.1; done
	url=$(sed 's/.*"url":"\([^"]*\)".*/\1/' "$work/ready")
	echo "== $spec"
	"$work/tasks-bench" attack -url "$url" -key "$work/key" -attack none -d "$d" -victim-rate "${VICTIM_RATE:-100}" \
		-min-success "${MIN_SUCCESS:-0}" 2>&1 | grep '^victim\|below' &
	victim=$!
	# shellcheck disable=SC2086 # flags are words
	${ATTACKER_NICE:+nice -n "$ATTACKER_NICE"} "$work/tasks-bench" attack -url "$url" -key "$work/key" -pid "$server" -attack "$name" -d "$d" -victim-rate 0 $flags 2>/dev/null
	wait "$victim" || failed+=("$spec")
	kill "$server"
	wait "$server" || true
	if n=$(grep -c 'too many open files' "$work/server.log"); then
		echo "server log: $n lines of \"too many open files\""
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "the victim's success rate was below ${MIN_SUCCESS:-0}% during: ${failed[*]}"
	exit 1
fi
