#!/usr/bin/env bash
# Raw server throughput with a C client: h2load (nghttp2-client) calling the
# Connect protocol over h2c, the way pgbench calls PostgreSQL, so the table
# compares server with database rather than Go client with C client.
#
#   bench/h2load.sh DIR
#
# DIR is what `tasks-bench run -h2load-dir DIR -hold` wrote: the server's
# url, a seeded user's token and request bodies. Prints one JSON object per
# call on stdout. Environment: CLIENTS (32 connections, one stream each),
# DURATION seconds (10), WARMUP seconds (2), CALLS (which of
# get-proto get-json list-proto list-deep-proto create-proto).
set -euo pipefail

dir=${1:?usage: h2load.sh DIR}
clients=${CLIENTS:-32}
duration=${DURATION:-10}
warmup=${WARMUP:-2}
calls=${CALLS:-get-proto get-json list-proto list-deep-proto create-proto}
url=$(cat "$dir/url")
pid=$(cat "$dir/pid" 2>/dev/null || true)

command -v h2load >/dev/null || { echo "h2load not found: apt-get install nghttp2-client" >&2; exit 1; }

for call in $calls; do
	token=$(cat "$dir/token")
	case $call in
	get-*) proc=GetTask ;;
	list-deep-*) proc=ListTasks body=ListTasksDeep token=$(cat "$dir/token-deep") ;;
	list-*) proc=ListTasks ;;
	create-*) proc=CreateTask ;;
	*) echo "unknown call $call" >&2; exit 2 ;;
	esac
	body=${body:-$proc}
	case $call in
	*-proto) ctype=application/proto file=$dir/$body.bin ;;
	*-json) ctype=application/json file=$dir/$body.json ;;
	esac
	echo "h2load: $call, $clients connections, ${duration}s" >&2
	out=$(h2load -c "$clients" -m 1 -t 1 -D "$duration" --warm-up-time="$warmup" \
		-H "authorization: Bearer $token" -H "content-type: $ctype" -d "$file" \
		"$url/tasks.v1.TaskService/$proc" 2>&1) || { echo "$out" >&2; exit 1; }
	rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
	ok=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' <<<"$out")
	done_=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' <<<"$out")
	total=$(sed -n 's/^requests: \([0-9]*\) total.*/\1/p' <<<"$out")
	# "time for request:  min  max  mean  sd  +/- sd"
	read -r _ _ _ tmin tmax tmean _ < <(grep '^time for request:' <<<"$out")
	rss=0
	if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
		rss=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
	fi
	printf '{"name":"%s","procedure":"%s","clients":%d,"duration_s":%d,"rps":%s,"requests":%s,"ok_2xx":%s,"mean":"%s","max":"%s","server_hwm_mib":%s}\n' \
		"$call" "$proc" "$clients" "$duration" "${rps:-0}" "${total:-0}" "${ok:-0}" "$tmean" "$tmax" "$rss"
	unset body
done
