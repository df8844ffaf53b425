#!/usr/bin/env bash
# Throwaway PostgreSQL for tests.
#
# Two ways to use it:
#   scripts/pg-test.sh COMMAND [ARGS...]   run COMMAND with COZEAUTH_TEST_POSTGRES_URL set, then tear down;
#                                          exits with COMMAND's status. Without a command it checks the
#                                          server with `select 1` and exits.
#   . scripts/pg-test.sh                   define pg_test_start / pg_test_stop in the calling shell:
#       pg_test_start && trap pg_test_stop EXIT
#
# When COZEAUTH_TEST_POSTGRES_URL is already set it is used unchanged and nothing is started. Otherwise the
# newest /usr/lib/postgresql/*/bin is used (installed with apt when missing and we are root), a fresh cluster
# is created in a temp dir, started on a free 127.0.0.1 port with durability switched off, and removed on stop.
# As root the server runs as the `postgres` OS user.

pg_test__log() { printf 'pg-test: %s\n' "$*" >&2; }

# pg_test__bindir prints the newest Debian PostgreSQL bin dir, or fails.
pg_test__bindir() {
	local d best="" bestv=-1 v
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] || continue
		v=${d#/usr/lib/postgresql/}
		v=${v%/bin}
		v=${v%%.*}
		case "$v" in '' | *[!0-9]*) continue ;; esac
		if [ "$v" -gt "$bestv" ]; then
			bestv=$v
			best=$d
		fi
	done
	[ -n "$best" ] || return 1
	printf '%s\n' "$best"
}

# pg_test__port prints a TCP port on 127.0.0.1 that nothing answers on.
pg_test__port() {
	local i p
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}

# pg_test__as runs a command as the OS user that owns the cluster.
pg_test__as() {
	if [ -n "${PG_TEST_RUNAS:-}" ]; then
		# From / so that a working directory the postgres user cannot enter draws no warnings.
		(cd / && runuser -u "$PG_TEST_RUNAS" -- "$@")
	else
		"$@"
	fi
}

pg_test_start() {
	PG_TEST_DIR=""
	if [ -n "${COZEAUTH_TEST_POSTGRES_URL:-}" ]; then
		pg_test__log "using the given COZEAUTH_TEST_POSTGRES_URL"
		return 0
	fi

	local bin
	if ! bin=$(pg_test__bindir); then
		if [ "$(id -u)" -ne 0 ]; then
			pg_test__log "no PostgreSQL in /usr/lib/postgresql/*/bin and not root: install postgresql or set COZEAUTH_TEST_POSTGRES_URL"
			return 1
		fi
		pg_test__log "installing postgresql with apt"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2 || return 1
		bin=$(pg_test__bindir) || {
			pg_test__log "postgresql installed but no initdb found"
			return 1
		}
	fi

	PG_TEST_RUNAS=""
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || {
			pg_test__log "running as root but there is no postgres OS user"
			return 1
		}
		PG_TEST_RUNAS=postgres
	fi

	PG_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cozeauth-pg.XXXXXX") || return 1
	if [ -n "$PG_TEST_RUNAS" ]; then
		chown "$PG_TEST_RUNAS" "$PG_TEST_DIR"
		if ! runuser -u "$PG_TEST_RUNAS" -- test -w "$PG_TEST_DIR"; then
			# TMPDIR is not reachable for the postgres user (e.g. under /root): use /tmp.
			rmdir "$PG_TEST_DIR"
			PG_TEST_DIR=$(mktemp -d /tmp/cozeauth-pg.XXXXXX) || return 1
			chown "$PG_TEST_RUNAS" "$PG_TEST_DIR"
		fi
	fi
	PG_TEST_BIN=$bin
	local data="$PG_TEST_DIR/data" sock="$PG_TEST_DIR/sock" user=postgres db=cozeauth_test
	pg_test__as mkdir -p "$sock" || return 1

	if ! pg_test__as "$bin/initdb" -D "$data" -U "$user" --auth=trust --encoding=UTF8 --locale=C --no-sync \
		>"$PG_TEST_DIR/initdb.log" 2>&1; then
		pg_test__log "initdb failed:"
		cat "$PG_TEST_DIR/initdb.log" >&2
		pg_test_stop
		return 1
	fi

	local port attempt started=""
	for attempt in 1 2 3 4 5; do
		port=$(pg_test__port) || break
		if pg_test__as "$bin/pg_ctl" -D "$data" -l "$PG_TEST_DIR/server.log" -w -t 60 -o "\
-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$sock \
-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0 \
-c max_connections=300 -c shared_buffers=64MB" start >/dev/null 2>&1; then
			started=1
			break
		fi
	done
	if [ -z "$started" ]; then
		pg_test__log "could not start PostgreSQL; server log:"
		cat "$PG_TEST_DIR/server.log" >&2 2>/dev/null
		pg_test_stop
		return 1
	fi
	PG_TEST_PORT=$port

	if ! pg_test__as "$bin/createdb" -h "$sock" -p "$port" -U "$user" "$db" >&2; then
		pg_test__log "createdb failed"
		pg_test_stop
		return 1
	fi
	export COZEAUTH_TEST_POSTGRES_URL="postgres://$user@127.0.0.1:$port/$db?sslmode=disable"
	pg_test__log "PostgreSQL $(basename "$(dirname "$bin")") at $COZEAUTH_TEST_POSTGRES_URL (dir $PG_TEST_DIR)"
}

# pg_test_stop stops the cluster started by pg_test_start and removes its directory. Safe to call twice.
pg_test_stop() {
	[ -n "${PG_TEST_DIR:-}" ] || return 0
	if [ -f "$PG_TEST_DIR/data/postmaster.pid" ]; then
		pg_test__as "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
			pg_test__log "pg_ctl stop failed"
	fi
	rm -rf "$PG_TEST_DIR"
	PG_TEST_DIR=""
	unset COZEAUTH_TEST_POSTGRES_URL
}

# Executed (not sourced): wrapper mode.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	pg_test_start || exit 1
	trap pg_test_stop EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [ "$#" -eq 0 ]; then
		out=$(psql "$COZEAUTH_TEST_POSTGRES_URL" -XAtqc 'select 1') && [ "$out" = 1 ] || {
			pg_test__log "select 1 failed"
			exit 1
		}
		pg_test__log "select 1 ok"
		exit 0
	fi
	"$@"
	exit $?
fi
