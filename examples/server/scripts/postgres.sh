#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: Debian's `postgresql` (installed
# with apt-get when missing), a fresh cluster in a scratch directory, listening on
# 127.0.0.1 only, run as an unprivileged user (`postgres` when this runs as root).
# `start` prints shell `export` lines: STRATUM_TEST_POSTGRES, the URL of a role
# that may create databases but is no superuser and does not bypass row-level
# security (what the server should run as), and STRATUM_PG_DATA, the cluster.
#
#   eval "$(examples/server/scripts/postgres.sh start)"
#   examples/server/scripts/postgres.sh stop "$STRATUM_PG_DATA"
set -euo pipefail

bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Runs a command as the cluster's (unprivileged) owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    if [ -z "$(bin_dir)" ]; then
      if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      else
        sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      fi
    fi
    bin=$(bin_dir)
    data=$(mktemp -d "${TMPDIR:-/tmp}/stratum-pg.XXXXXX")
    pwfile="$data.pw"
    admin_password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$admin_password" >"$pwfile"
    if [ "$(id -u)" = 0 ]; then
      chown postgres "$data" "$pwfile"
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$data/cluster" -U pgadmin --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-sync >/dev/null
    rm -f "$pwfile"
    as_owner "$bin/pg_ctl" -D "$data/cluster" -l "$data/cluster/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $data/cluster -c max_connections=300" start >/dev/null
    as_owner "$bin/psql" -q -h "$data/cluster" -p "$port" -U pgadmin -d postgres \
      -c "CREATE ROLE stratum LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS PASSWORD 'stratum'" >/dev/null
    echo "export STRATUM_TEST_POSTGRES=postgres://stratum:stratum@127.0.0.1:$port/postgres"
    echo "export STRATUM_PG_DATA=$data"
    ;;
  stop)
    data=${2:?the cluster directory printed by start}
    bin=$(bin_dir)
    as_owner "$bin/pg_ctl" -D "$data/cluster" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$data"
    ;;
  *)
    echo "usage: $0 start | stop <dir>" >&2
    exit 2
    ;;
esac
