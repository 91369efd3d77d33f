#!/usr/bin/env bash
# Stops a server started by pg-start.sh and removes its directory.
set -euo pipefail
dir=$1
bindir=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | head -n1)")
run=()
[ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
"${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast stop >&2 || true
rm -rf "$dir"
