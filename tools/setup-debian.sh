#!/usr/bin/env bash
# Installs what ropecheck needs on a Debian 12 machine: compilers, CMake,
# MPFR, Criterion, Google Benchmark, cJSON, Python 3 with matplotlib (the
# report), python3-numpy (the Python runner, python/), python3-jsonschema
# (result-schema checks) and chromium (the test
# that renders report.html headless), and the AArch64 cross compiler with
# qemu-user (the NEON port, tools/build-aarch64.sh), python3-venv
# (tools/mutation-test installs its one PyPI dependency into a venv).
# Idempotent: when every package is already present it does nothing (and
# needs no root). Otherwise it runs apt-get as root, or through sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang
  libmpfr-dev libgmp-dev
  libcriterion-dev
  libbenchmark-dev
  libcjson-dev libxml2-dev
  python3 python3-numpy python3-matplotlib python3-jsonschema python3-venv chromium
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  parallel
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present" >&2
  exit 0
fi

if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
