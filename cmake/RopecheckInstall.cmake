# What `cmake --install` puts where (issue 19): the vendor kit.
#
#   PREFIX/bin/ropecheck, ropecheck-runner     the judge and the runner
#   (with nvcc: PREFIX/bin/ropecheck-cuda-bench, PREFIX/lib/libropecheck_cuda_kernels.so)
#   PREFIX/include/ropecheck/{plugin,rope}.h   the plug-in ABI (all a port needs)
#   PREFIX/include/ropecheck/kit/...           optional helpers a port may use:
#       core/dd.h, impls/common/{exact_angle,sincos_dd}.h (the exact angle
#       the built-in ports and examples/plugin use; header-only)
#   PREFIX/share/ropecheck/reports             `ropecheck report`'s script and schema
#   PREFIX/share/ropecheck/python              the Python runner behind --python
#   PREFIX/share/ropecheck/examples/plugin     the example port, buildable out of tree
#   PREFIX/lib/pkgconfig/ropecheck.pc          pkg-config --cflags ropecheck
#   PREFIX/lib/cmake/ropecheck/                find_package(ropecheck): ropecheck::plugin
#                                              (headers) and ropecheck::ropecheck (the binary)
#
# The binary finds its share/ folder relative to its own path
# (cli/data_dir.c), so an installed tree may be moved or staged with DESTDIR.
include(GNUInstallDirs)

# The ABI version the installed headers define, for ropecheckConfig.cmake.
file(STRINGS ${PROJECT_SOURCE_DIR}/include/ropecheck/plugin.h RC_ABI_LINE
  REGEX "^#define RC_ABI_VERSION [0-9]+u")
string(REGEX REPLACE "^#define RC_ABI_VERSION ([0-9]+)u.*" "\\1" RC_ABI_VERSION "${RC_ABI_LINE}")
include(CMakePackageConfigHelpers)

# bin -> share/ropecheck as a relative path, for cli/data_dir.c.
file(RELATIVE_PATH RC_DATA_REL "/p/${CMAKE_INSTALL_BINDIR}" "/p/${CMAKE_INSTALL_DATADIR}/ropecheck")
set_property(SOURCE ${PROJECT_SOURCE_DIR}/cli/data_dir.c TARGET_DIRECTORY ropecheck_cli
  APPEND PROPERTY COMPILE_DEFINITIONS ROPECHECK_DATA_REL="${RC_DATA_REL}")

install(TARGETS ropecheck_cmd ropecheck_runner RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# With nvcc, the CUDA kernels are a shared library the binary links
# (impls/cuda/CMakeLists.txt): installed in lib/, found through an
# $ORIGIN-relative RUNPATH so the tree stays relocatable.
if(TARGET ropecheck_cuda_kernels)
  file(RELATIVE_PATH RC_LIB_REL "/p/${CMAKE_INSTALL_BINDIR}" "/p/${CMAKE_INSTALL_LIBDIR}")
  install(TARGETS ropecheck_cuda_kernels LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(TARGETS ropecheck_cuda_bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  set_target_properties(ropecheck_cmd ropecheck_cuda_bench PROPERTIES
    INSTALL_RPATH "$ORIGIN/${RC_LIB_REL}")
endif()
install(FILES include/ropecheck/plugin.h include/ropecheck/rope.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ropecheck)
install(FILES core/dd.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ropecheck/kit/core)
install(FILES impls/common/exact_angle.h impls/common/sincos_dd.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ropecheck/kit/impls/common)

set(RC_SHARE ${CMAKE_INSTALL_DATADIR}/ropecheck)
install(FILES reports/ropecheck_report.py reports/README.md DESTINATION ${RC_SHARE}/reports)
install(DIRECTORY reports/schema DESTINATION ${RC_SHARE}/reports)
install(DIRECTORY python/ DESTINATION ${RC_SHARE}/python
  PATTERN "__pycache__" EXCLUDE PATTERN "*.egg-info" EXCLUDE PATTERN "build" EXCLUDE)
install(FILES examples/plugin/example_port.c examples/plugin/CMakeLists.txt
  examples/plugin/README.md DESTINATION ${RC_SHARE}/examples/plugin)
install(FILES runner/PROTOCOL.md DESTINATION ${RC_SHARE}/runner)

# pkg-config: paths relative to ${prefix}, so `cmake --install --prefix`
# chosen at install time is the one the file names.
configure_file(${PROJECT_SOURCE_DIR}/cmake/ropecheck.pc.in
  ${PROJECT_BINARY_DIR}/ropecheck.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ropecheck.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(RC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ropecheck)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/ropecheckConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ropecheckConfig.cmake
  INSTALL_DESTINATION ${RC_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_BINDIR CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ropecheckConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ropecheckConfig.cmake
  ${PROJECT_BINARY_DIR}/ropecheckConfigVersion.cmake DESTINATION ${RC_CMAKE_DIR})

# A Debian package of the same install (`cpack -G DEB --config
# BUILD/CPackConfig.cmake`): tests/test_install.sh builds it and runs the
# unpacked tree. The dependencies are the runtime packages of Debian 12
# that tools/setup-debian.sh's build dependencies pull in.
set(CPACK_PACKAGE_NAME ropecheck)
set(CPACK_PACKAGE_VENDOR "ropecheck")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "verify and benchmark Rotary Position Embedding implementations against an exact reference")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "ropecheck developers")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libmpfr6, libcjson1, libxml2, libbenchmark1debian, libstdc++6, libc6, python3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3-matplotlib, python3-numpy, pkg-config, cmake")
include(CPack)
