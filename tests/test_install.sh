#!/bin/sh
# tests/test_install.sh BUILD_DIR SOURCE_DIR - the vendor kit (issue 19)
# end to end: `cmake --install` into a temporary prefix, then
# examples/plugin built OUT OF TREE against that prefix alone, once with
# pkg-config and once with find_package(ropecheck), and each result
# verified by the INSTALLED ropecheck; `ropecheck report` is run from the
# installed tree when a python3 with matplotlib is there; then the Debian
# package (cpack -G DEB) is built, unpacked and run from where it lies.
#
# Everything is written inside one mktemp directory, removed on exit.
# Exit 77 (ctest: Skipped) when cmake, pkg-config or a C compiler is absent.
set -eu
build=$(realpath "$1")
src=$(realpath "$2")
for tool in cmake pkg-config cc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool not found: the kit cannot be built here"
        exit 77
    fi
done
work=$(mktemp -d "${TMPDIR:-/tmp}/ropecheck-install.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
prefix="$work/prefix"
step() { printf '\n== %s\n' "$*"; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in bin/ropecheck bin/ropecheck-runner include/ropecheck/plugin.h \
         include/ropecheck/rope.h include/ropecheck/kit/impls/common/exact_angle.h \
         share/ropecheck/reports/ropecheck_report.py \
         share/ropecheck/reports/schema/results.schema.json \
         share/ropecheck/python/ropecheck_runner/__main__.py \
         share/ropecheck/examples/plugin/example_port.c; do
    [ -e "$prefix/$f" ] || { echo "FAIL: $f was not installed"; cat "$work/install.log"; exit 1; }
done
pcdir=$(dirname "$(find "$prefix" -name ropecheck.pc | head -n 1)")
[ -f "$pcdir/ropecheck.pc" ] || { echo "FAIL: no ropecheck.pc installed"; exit 1; }
ropecheck="$prefix/bin/ropecheck"
example="$prefix/share/ropecheck/examples/plugin"

# Only the prefix: no path of the source or build tree may leak in.
step "pkg-config build"
cflags=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_LIBDIR="$pcdir" pkg-config --cflags ropecheck)
case "$cflags" in *"$src"*|*"$build"*) echo "FAIL: cflags name the tree: $cflags"; exit 1;; esac
bin_var=$(PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_LIBDIR="$pcdir" pkg-config --variable=ropecheck ropecheck)
[ "$(realpath "$bin_var")" = "$(realpath "$ropecheck")" ] ||
    { echo "FAIL: pkg-config's ropecheck variable is $bin_var"; exit 1; }
mkdir "$work/pc"
# shellcheck disable=SC2086  # cflags is a word list by design
cc -O2 -std=c11 -Wall -Werror -shared -fPIC $cflags -o "$work/pc/libexample_port.so" \
    "$example/example_port.c" -lm
"$ropecheck" verify --plugin "$work/pc/libexample_port.so" --quick --json "$work/pc.json"

step "find_package(ropecheck) build"
cmake -S "$example" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/cmake.log" ||
    { cat "$work/cmake.log"; exit 1; }
cmake --build "$work/cm" >"$work/build.log" || { cat "$work/build.log"; exit 1; }
ctest --test-dir "$work/cm" --output-on-failure

step "the installed tree finds its own data"
# The script of the INSTALLED tree: --help names where it looks first.
env -u ROPECHECK_REPORTS_DIR "$ropecheck" report --help >/dev/null
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
    env -u ROPECHECK_REPORTS_DIR ROPECHECK_PYTHON=/usr/bin/python3 \
        "$ropecheck" report "$work/pc.json" -o "$work/report" >/dev/null
    [ -s "$work/report/report.html" ] || { echo "FAIL: no report from the installed tree"; exit 1; }
else
    echo "(no /usr/bin/python3 with matplotlib: the installed report is not run)"
fi
# --python runs the installed package: the runner command it reports
# (the module does not exist, so the run is BROKEN) names the prefix.
"$ropecheck" verify --python nosuchmodule:apply --quick >"$work/py.out" 2>&1 || true
grep -qF "PYTHONPATH='$prefix/share/ropecheck/python'" "$work/py.out" ||
    { echo "FAIL: --python does not use the installed runner"; cat "$work/py.out"; exit 1; }
# The Debian package of the same install, unpacked (never installed: the
# test writes nothing outside its directory) and run from where it lies.
if command -v cpack >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
    step "cpack -G DEB, unpacked and run"
    cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/deb" >"$work/cpack.log" ||
        { cat "$work/cpack.log"; exit 1; }
    deb=$(find "$work/deb" -maxdepth 1 -name 'ropecheck_*.deb' | head -n 1)
    [ -n "$deb" ] || { echo "FAIL: cpack made no .deb"; cat "$work/cpack.log"; exit 1; }
    dpkg-deb -I "$deb" | grep -q "Depends: .*libmpfr6" ||
        { echo "FAIL: the package does not depend on libmpfr6"; exit 1; }
    dpkg-deb -x "$deb" "$work/root"
    env -u ROPECHECK_REPORTS_DIR "$work/root/usr/bin/ropecheck" verify \
        --plugin "$work/pc/libexample_port.so" --quick --quiet >"$work/deb.out" ||
        { echo "FAIL: the packaged ropecheck does not verify the example"; cat "$work/deb.out"; exit 1; }
    [ -f "$work/root/usr/lib/pkgconfig/ropecheck.pc" ] &&
        [ -f "$work/root/usr/lib/cmake/ropecheck/ropecheckConfig.cmake" ] ||
        { echo "FAIL: the package lacks ropecheck.pc or the CMake package"; exit 1; }
else
    echo "(cpack or dpkg-deb absent: the Debian package is not built)"
fi
echo "PASS: installed, built out of tree with pkg-config and CMake, verified"
