#!/usr/bin/env bash
# Installs the Debian packages Parley needs beyond npm: a C++ toolchain and the
# codec libraries the native media engine links against, plus the real peers the
# test suite talks to (sipp, baresip, Chromium, dnsmasq as a DNS server) and TTS/audio tools.
# Idempotent: installs only what is missing, and runs `apt-get update` first when it does.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(
  build-essential pkg-config python3
  libopus-dev libspeexdsp-dev libspandsp-dev liburing-dev
  sip-tester baresip dnsmasq-base
  chromium
  espeak-ng sox
  valgrind
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
