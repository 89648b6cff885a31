#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tuning-storage tests (Debian's `postgresql` package):
#   bash scripts/postgres-temp.sh start <dir>   # initdb in <dir>, start on a free 127.0.0.1 port, print the URL
#   bash scripts/postgres-temp.sh stop <dir>    # stop it and delete <dir>
# The URL (postgresql://postgres@127.0.0.1:<port>/postgres, trust authentication, local connections only) is what
# TUNE_POSTGRES_URL expects. PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` system
# user that the Debian package creates; as any other user it runs as that user.
set -euo pipefail

command="${1:-}"
dir="${2:-}"
if [[ -z "$command" || -z "$dir" ]]; then
  echo "usage: $0 start|stop <dir>" >&2
  exit 2
fi

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
  echo "postgres-temp: PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
  exit 1
fi

as_owner() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
  start)
    mkdir -p "$dir"
    if [[ "$(id -u)" == 0 ]]; then chown postgres: "$dir"; fi
    port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [[ -f "$dir/data/postmaster.pid" ]]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop <dir>" >&2
    exit 2
    ;;
esac
