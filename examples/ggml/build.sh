#!/bin/sh
# examples/ggml/build.sh GGML_PREFIX [OUTPUT.so]
#
# Builds examples/ggml/ggml_port.c against the ggml installed under
# GGML_PREFIX (GGML_PREFIX/include/ggml.h, ggml-cpu.h and
# GGML_PREFIX/lib*/libggml{,-base,-cpu}.so, as ggml's own `cmake --install`
# lays them out) into OUTPUT.so (default ./libggml_port.so), with an rpath
# to that ggml. No ggml yet? examples/ggml/get-ggml.sh builds one.
set -eu
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    [ $# -ge 1 ] && exit 0 || exit 2
fi
prefix=$(realpath "$1")
out=${2:-./libggml_port.so}
here=$(dirname "$(realpath "$0")")
root=$(dirname "$(dirname "$here")")
[ -f "$prefix/include/ggml.h" ] && [ -f "$prefix/include/ggml-cpu.h" ] ||
    { echo "build.sh: no ggml.h and ggml-cpu.h under $prefix/include" >&2; exit 2; }
libdir=$(dirname "$(find "$prefix" -name 'libggml-cpu.so*' | head -n 1)")
[ -f "$libdir/libggml-cpu.so" ] ||
    { echo "build.sh: no libggml-cpu.so under $prefix" >&2; exit 2; }
# The ropecheck headers: an installed kit (pkg-config) or this source tree.
rc_cflags=$(pkg-config --cflags ropecheck 2>/dev/null || echo "-I$root/include")
# shellcheck disable=SC2086  # rc_cflags is a word list
${CC:-cc} -O2 -std=c11 -Wall -Wextra -Werror -shared -fPIC $rc_cflags -I"$prefix/include" \
    -o "$out" "$here/ggml_port.c" -L"$libdir" -lggml -lggml-base -lggml-cpu \
    -Wl,-rpath,"$libdir"
echo "built $out against $prefix"
