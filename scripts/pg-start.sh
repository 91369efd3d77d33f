#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the tests and prints its URL on stdout.
# Installs Debian's postgresql package when the machine lacks it. The server listens on
# loopback only, in a fresh data directory under $PG_TMP (default: a new temp dir).
# Stop it with: scripts/pg-stop.sh <dir printed on stderr>
set -euo pipefail
find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}
if ! bindir=$(find_bin); then
  echo "pg-start: installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir=$(find_bin)
fi
port=${PG_PORT:-55432}
dir=${PG_TMP:-$(mktemp -d /tmp/quorum-pg.XXXXXX)}
run=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root: run the server as the postgres system user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown -R postgres "$dir"
  run=(runuser -u postgres --)
fi
"${run[@]}" "$bindir/initdb" -D "$dir/data" -U quorum --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
"${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=200" start >&2
echo "pg-start: data in $dir" >&2
echo "postgres://quorum@127.0.0.1:$port/postgres"
