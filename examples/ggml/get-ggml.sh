#!/bin/sh
# examples/ggml/get-ggml.sh PREFIX
#
# Gets a ggml to judge when you have none: downloads the ggml-python
# source distribution from PyPI (pinned version and sha256; it vendors
# ggml's sources), builds ggml's CPU backend from it with CMake (portable
# code: GGML_NATIVE=OFF) and installs it into PREFIX. Network: PyPI only,
# only here. About 5 minutes on 2 cores. Then:
#   examples/ggml/build.sh PREFIX && ropecheck verify --plugin ./libggml_port.so --profile ggml
set -eu
if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    [ $# -eq 1 ] && exit 0 || exit 2
fi
VERSION=0.0.45
SHA256=10aac52075cf3c7ef2b00d6c35b1c23f7b018dbeff8ae8df67339b4be1166f05
prefix=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/ropecheck-ggml.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
python3 -m pip download --no-deps --no-binary :all: "ggml-python==$VERSION" -d "$work" >&2
sdist="$work/ggml_python-$VERSION.tar.gz"
echo "$SHA256  $sdist" | sha256sum -c - >&2
tar xzf "$sdist" -C "$work"
src="$work/ggml_python-$VERSION/vendor/ggml"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
    -DBUILD_SHARED_LIBS=ON -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF \
    -DCMAKE_INSTALL_PREFIX="$prefix" >&2
cmake --build "$work/build" -j "$(nproc)" >&2
cmake --install "$work/build" >&2
echo "ggml (from ggml-python $VERSION) installed in $prefix"
