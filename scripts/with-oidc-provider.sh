#!/usr/bin/env bash
# Runs a command beside a real OpenID provider (tests/oidc/provider.mjs, the npm
# package oidc-provider) on a free loopback port, stopped afterwards. Exports
# KAITO_TEST_OIDC_ISSUER (its issuer URL); the SSO tests sign in against it.
#
#   scripts/with-oidc-provider.sh cargo test -p kaito-server --test sso
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ ! -d $root/tests/oidc/node_modules/oidc-provider ]]; then
  echo "with-oidc-provider: tests/oidc is not installed (scripts/setup.sh test installs it)" >&2
  exit 1
fi

port=
for _ in $(seq 50); do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
    port=$candidate
    break
  fi
done
[[ -n $port ]] || { echo "with-oidc-provider: no free port found" >&2; exit 1; }

log=$(mktemp "${TMPDIR:-/tmp}/kaito-oidc.XXXXXX")
PORT=$port node "$root/tests/oidc/provider.mjs" >"$log" 2>&1 &
provider=$!
stop() {
  kill "$provider" 2>/dev/null || true
  wait "$provider" 2>/dev/null || true
  rm -f "$log"
}
trap stop EXIT

issuer="http://127.0.0.1:$port"
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    break
  fi
  if ! kill -0 "$provider" 2>/dev/null; then
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done

export KAITO_TEST_OIDC_ISSUER=$issuer
"$@"
