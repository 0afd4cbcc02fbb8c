#!/usr/bin/env bash
# Cross-builds ropecheck-runner for AArch64 (scalar + neon) into
# build-aarch64/ (or $1), with cmake/toolchain-aarch64.cmake and no
# MPFR/cJSON/Criterion (ROPECHECK_RUNNER_ONLY=ON). The host's
# `ropecheck verify --runner "qemu-aarch64 -L /usr/aarch64-linux-gnu
# build-aarch64/runner/ropecheck-runner" --impl neon` then tests the NEON
# port under emulation (tests/test_runner.c does so through ctest).
# Exits 0 with a message, building nothing, when the cross compiler is not
# installed (tools/setup-debian.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-aarch64}
if ! command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
  echo "build-aarch64: skipped: aarch64-linux-gnu-gcc not installed (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)" >&2
  exit 0
fi
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-aarch64.cmake" \
  -DROPECHECK_RUNNER_ONLY=ON -DROPECHECK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$dir"
echo "build-aarch64: $dir/runner/ropecheck-runner" >&2
