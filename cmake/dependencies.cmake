# Everything weft and its tests need, found from the system: nothing is downloaded.
# (The benchmarks' anchors are optional and looked up in bench/CMakeLists.txt.)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
# One minimum for hwloc, shared by this lookup, weftConfig.cmake and weft.pc.
set(WEFT_HWLOC_MIN_VERSION 2.0)
# IMPORTED_TARGET gives PkgConfig::hwloc; weftConfig.cmake re-creates it for consumers
# of a static weft.
pkg_check_modules(hwloc REQUIRED IMPORTED_TARGET hwloc>=${WEFT_HWLOC_MIN_VERSION})

# The test suite is not optional once asked for: a missing GoogleTest stops the
# configure with the package to install, rather than skipping the tests quietly.
if(WEFT_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    message(FATAL_ERROR
      "WEFT_BUILD_TESTS is ON but GoogleTest was not found. Install it "
      "(Debian/Ubuntu: apt-get install libgtest-dev) or configure with "
      "-DWEFT_BUILD_TESTS=OFF.")
  endif()
endif()

# The tests read weft's JSON back with nlohmann/json, as weft-plot does; the library
# writes its JSON itself and depends on nothing for it.
if(WEFT_BUILD_TESTS)
  find_package(nlohmann_json 3 QUIET)
  if(NOT nlohmann_json_FOUND)
    message(FATAL_ERROR
      "WEFT_BUILD_TESTS is ON but nlohmann/json was not found. Install it "
      "(Debian/Ubuntu: apt-get install nlohmann-json3-dev) or configure with "
      "-DWEFT_BUILD_TESTS=OFF.")
  endif()
endif()
