# Shared set-up for scripts/dev and scripts/test: installs what a fresh machine lacks.
# Sourced, not executed. Every step is idempotent and quiet when there is nothing to do.

# The repository root, whatever the caller's working directory.
KETTLE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export KETTLE_ROOT

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Debian packages the build needs: libclang for bindgen (librocksdb-sys), Debian's RocksDB
# so it is linked instead of compiled (25 s instead of 20 min on 2 cores).
APT_PACKAGES=(libclang-dev librocksdb-dev pkg-config)

ensure_apt_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_toolchain() {
  command -v cargo >/dev/null || die "cargo not found: this machine kind ships a Rust toolchain via rustup"
  command -v node >/dev/null || die "node not found: needed for the Solidity compiler (npm solc) and the local L1 (hardhat)"
  command -v npm >/dev/null || die "npm not found: needed for the Solidity compiler (npm solc) and the local L1 (hardhat)"
  cargo clippy --version >/dev/null 2>&1 || die "cargo clippy not found: rustup component add clippy"
  cargo fmt --version >/dev/null 2>&1 || die "cargo fmt not found: rustup component add rustfmt"
}

# The local L1 of the builder tests (tests/l1: pinned hardhat, tests/l1/package-lock.json) is
# installed with `npm ci` when tests/l1/node_modules is missing or was installed from another
# lock file (a copy of the lock file used for the install is kept next to the packages).
ensure_l1_packages() {
  local l1="$KETTLE_ROOT/tests/l1"
  local stamp="$l1/node_modules/.kettle-package-lock.json"
  if [[ -f "$l1/node_modules/hardhat/package.json" ]] && cmp -s "$l1/package-lock.json" "$stamp"; then
    return 0
  fi
  log "installing the pinned hardhat for the local L1 (npm ci in tests/l1/)"
  (cd "$l1" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
  cp "$l1/package-lock.json" "$stamp"
}

setup_all() {
  ensure_apt_packages
  ensure_toolchain
  ensure_l1_packages
}
