#!/usr/bin/env bash
# Runs a command inside a throwaway desktop session, the way the tests need it:
# a virtual X display (Xvfb), a private D-Bus session bus and an unlocked
# gnome-keyring Secret Service, in a private kernel keyring. XDG_DATA_HOME and
# XDG_RUNTIME_DIR point into a temp dir, so the user's real keychain, display and
# data are never touched. HOME is left alone (cargo and rustup live there).
#
#   scripts/with-test-session.sh cargo test --workspace
set -euo pipefail

release_document_portal() {
  local mount=$1
  if [[ -d $mount ]]; then
    fusermount3 -u -z "$mount" 2>/dev/null || fusermount -u -z "$mount" 2>/dev/null || true
  fi
}

if [[ ${KAITO_TEST_SESSION:-} != inner ]]; then
  session_dir=$(mktemp -d "${TMPDIR:-/tmp}/kaito-test-session.XXXXXX")
  mkdir -p "$session_dir/data" "$session_dir/runtime"
  chmod 700 "$session_dir/runtime"
  status=0
  # The session is X11 on Xvfb, even when started from a Wayland desktop.
  env -u WAYLAND_DISPLAY -u XDG_SESSION_TYPE \
    KAITO_TEST_SESSION=inner XDG_DATA_HOME="$session_dir/data" XDG_RUNTIME_DIR="$session_dir/runtime" \
    keyctl session kaito-tests \
    xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24 -nolisten tcp -noreset" \
    dbus-run-session -- \
    "$0" "$@" || status=$?
  # GTK may have auto-started xdg-document-portal, which FUSE-mounts runtime/doc;
  # a leftover mount must not turn a green run red.
  release_document_portal "$session_dir/runtime/doc"
  rm -rf "$session_dir" 2>/dev/null || echo "warning: could not remove $session_dir" >&2
  exit "$status"
fi

# Inside the session: start the keyring, unlocked with a throwaway password.
printf %s "kaito-test-keyring" \
  | gnome-keyring-daemon --foreground --unlock --components=secrets >"$XDG_RUNTIME_DIR/keyring.log" 2>&1 &
keyring_pid=$!
trap 'kill "$keyring_pid" 2>/dev/null || true; release_document_portal "$XDG_RUNTIME_DIR/doc"' EXIT

# Wait until the Secret Service answers on the bus, so the first test does not race it.
for _ in $(seq 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; then
    break
  fi
  sleep 0.1
done

"$@"
