#!/usr/bin/env bash
# Installs what Kaito needs to build (`setup.sh run`) or to build and test
# (`setup.sh test`) on Debian/Ubuntu. Idempotent: it only installs what is missing,
# so `make run` / `make test` can call it every time.
set -euo pipefail
mode=${1:-run}
root=$(cd "$(dirname "$0")/.." && pwd)

build_packages=(
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libsoup-3.0-dev libxdo-dev libssl-dev pkg-config build-essential curl file
  libdbus-1-dev libclang-dev
)
test_packages=(
  xvfb xauth webkit2gtk-driver dbus dbus-x11 gnome-keyring keyutils libsecret-tools xclip xdotool x11-xserver-utils procps xdg-utils
  postgresql
)

packages=("${build_packages[@]}")
[[ $mode == test ]] && packages+=("${test_packages[@]}")

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is missing. Install it with rustup (https://rustup.rs), then run make again." >&2
  exit 1
fi

node_ok() {
  command -v node >/dev/null || return 1
  # Vite 8 needs Node 20.19 or newer.
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'
}
if ! node_ok; then
  echo "setup: Node.js 20.19+ with npm is needed for the UI build (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "       On Debian/Ubuntu: install the nodejs package from NodeSource or use nvm, then run make again." >&2
  exit 1
fi

# npm ci only when the lock file changed since the last install.
stamp="$root/ui/node_modules/.kaito-lock-stamp"
if [[ ! -f $stamp ]] || ! cmp -s "$root/ui/package-lock.json" "$stamp"; then
  (cd "$root/ui" && npm ci --no-fund --no-audit)
  cp "$root/ui/package-lock.json" "$stamp"
fi

# The SSO tests' OpenID provider (tests/oidc), likewise only when its lock changed.
oidc_stamp="$root/tests/oidc/node_modules/.kaito-lock-stamp"
if [[ $mode == test ]] && { [[ ! -f $oidc_stamp ]] || ! cmp -s "$root/tests/oidc/package-lock.json" "$oidc_stamp"; }; then
  (cd "$root/tests/oidc" && npm ci --no-fund --no-audit)
  cp "$root/tests/oidc/package-lock.json" "$oidc_stamp"
fi

if [[ $mode == test ]] && ! command -v tauri-driver >/dev/null && [[ ! -x ${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver ]]; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --locked --version "^2.1"
fi
