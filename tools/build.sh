#!/usr/bin/env bash
# Configure and build one flavour of ropecheck into a build directory.
#   tools/build.sh DIR [extra cmake -D options...]
# Warnings are errors everywhere (CI and developers see the same thing).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1; shift
cmake -S . -B "$dir" -G Ninja -DROPECHECK_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
