#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server (the server tests run every
# case on SQLite and on PostgreSQL): a fresh cluster in a temp dir on a free
# loopback port, trust auth, durability off for speed, removed afterwards.
# Exports KAITO_TEST_POSTGRES_URL (the `postgres` database of user `kaito`).
#
#   scripts/with-postgres.sh cargo test -p kaito-server
set -euo pipefail

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ ! -x ${pg_bin:-}/initdb ]]; then
  echo "with-postgres: PostgreSQL is not installed (scripts/setup.sh test installs it)" >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/kaito-postgres.XXXXXX")
run_as=()
if ((EUID == 0)); then
  # PostgreSQL refuses to run as root.
  chown postgres: "$dir"
  run_as=(runuser -u postgres --)
fi

# A free port: nothing answers on it.
port=
for _ in $(seq 50); do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
    port=$candidate
    break
  fi
done
[[ -n $port ]] || { echo "with-postgres: no free port found" >&2; exit 1; }

stop() {
  "${run_as[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

if ! "${run_as[@]}" "$pg_bin/initdb" -D "$dir/data" -U kaito -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  exit 1
fi
if ! "${run_as[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null; then
  cat "$dir/server.log" >&2
  exit 1
fi

export KAITO_TEST_POSTGRES_URL="postgres://kaito@127.0.0.1:$port/postgres"
export KAITO_TEST_REQUIRE_POSTGRES=1
"$@"
