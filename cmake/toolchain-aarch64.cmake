# Cross-compiling for AArch64 Linux with Debian's gcc-aarch64-linux-gnu
# (tools/setup-debian.sh installs it, with qemu-user to run the result).
# Used for the runner alone (ROPECHECK_RUNNER_ONLY=ON): see
# tools/build-aarch64.sh. Run the result with
#   qemu-aarch64 -L /usr/aarch64-linux-gnu build-aarch64/runner/ropecheck-runner
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# What ctest or `cmake -E` would use to run a target binary on this host.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu)
