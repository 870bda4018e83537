#!/usr/bin/env bash
# bootstrap.sh - install what leakscan needs on Debian 12 (bookworm), then build and run.
#
#   bash scripts/bootstrap.sh demo           build deps, then `make demo`
#   bash scripts/bootstrap.sh test           build and test deps, then `make test`
#   bash scripts/bootstrap.sh deps           build and test deps only
#   bash scripts/bootstrap.sh install PKG..  these packages only (used by bench/run.sh)
#
# Needs only bash, dpkg and apt. Run as root, it installs the packages that are missing
# (running `apt-get update` only when some are); run as another user, it names them and
# exits 2, since it cannot install them.
set -euo pipefail

BUILD_DEPS=(make gcc libc6-dev pkg-config libpcap-dev libndpi-dev libcjson-dev libssl-dev
            zlib1g-dev)
TEST_DEPS=(nginx-light mariadb-server mariadb-client postgresql redis-server redis-tools
           curl tcpdump openssl iproute2 jq procps time)

die() { echo "bootstrap: $*" >&2; exit 2; }

installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

# ensure PKG...: install, in one apt-get call, those of PKG... that are not installed.
ensure() {
  local missing=() p
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$EUID" -eq 0 ] ||
    die "missing packages: ${missing[*]} (as root: apt-get install ${missing[*]})"
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

command -v dpkg-query >/dev/null && command -v apt-get >/dev/null ||
  die "needs a Debian-based system (dpkg-query and apt-get not found)"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

case "${1:-}" in
  demo) ensure "${BUILD_DEPS[@]}"; exec make demo ;;
  test) ensure "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}"; exec make test ;;
  deps) ensure "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}" ;;
  install) shift; ensure "$@" ;;
  *) die "usage: bash scripts/bootstrap.sh demo|test|deps|install PKG..." ;;
esac
