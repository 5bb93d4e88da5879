#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a free loopback port, for benchmarks.
#
#   bench/pg.sh start DIR   create and start a cluster in DIR (must not exist);
#                           prints its postgres:// URL
#   bench/pg.sh stop DIR    stop it and remove DIR
#
# Settings are the Go tests' (internal/pgtest): no durability (fsync and
# synchronous_commit off), 300 connections. As root the server runs as the
# postgres OS user, since PostgreSQL refuses to run as root. PGBIN overrides
# where the server binaries are.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pg.sh start|stop DIR}
dir=${2:?usage: pg.sh start|stop DIR}

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
	python3 - <<'EOF' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
EOF
}

case "$cmd" in
start)
	mkdir "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		echo "pg.sh: initdb failed (the postgres user needs to reach $dir)" >&2
		exit 1
	}
	port=$(free_port)
	# One line: pg_ctl hands -o to a shell.
	opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=128MB"
	opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${PGOPTS:-}"
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start -o "$opts" >/dev/null || {
		tail -20 "$dir/postgres.log" >&2
		exit 1
	}
	echo "$port" >"$dir/port"
	echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	;;
stop)
	if [ -d "$dir/data" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: pg.sh start|stop DIR" >&2
	exit 2
	;;
esac
