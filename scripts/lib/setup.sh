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
  command -v node >/dev/null || die "node not found: needed for the Solidity compiler (npm solc)"
  command -v npm >/dev/null || die "npm not found: needed for the Solidity compiler (npm solc)"
  cargo clippy --version >/dev/null 2>&1 || die "cargo clippy not found: rustup component add clippy"
  cargo fmt --version >/dev/null 2>&1 || die "cargo fmt not found: rustup component add rustfmt"
}

setup_all() {
  ensure_apt_packages
  ensure_toolchain
}
