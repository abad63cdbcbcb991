# Installs weft into an unusual prefix (a space in its path, not on the loader path) and
# uses it the ways a downstream user does:
#   (a) a CMake project through find_package(weft)                (tests/install/consumer)
#   (b) the same main.cpp built by hand with `pkg-config --cflags --libs [--static] weft`
#   (c) <prefix>/bin/weft-probe run in place, without LD_LIBRARY_PATH (shared: RUNPATH)
#   (d) libweft_pthreadpool.so preloaded into programs that know nothing of weft
#
# VARIANT (static | shared) is the kind of libweft to install. When WEFT_BUILD_DIR built
# that kind, it is installed as it is; otherwise a second weft of that kind (library,
# tools and pthreadpool only) is configured and built from WEFT_SOURCE_DIR in WORK_DIR,
# where it stays between runs so that a rerun rebuilds only what changed.
#
# Set by tests/CMakeLists.txt: VARIANT, WEFT_SOURCE_DIR, WEFT_BUILD_DIR, WEFT_BUILD_KIND
# (static | shared: what WEFT_BUILD_DIR built), WEFT_BUILD_TOOLS, WEFT_BUILD_PTHREADPOOL
# and WEFT_PTHREADPOOL_SHARED (WEFT_BUILD_DIR's options), WEFT_GENERATOR,
# WEFT_BUILD_TYPE, C_COMPILER, CXX_COMPILER, PKG_CONFIG, LIBDIR, BINDIR,
# CONSUMER_SOURCE_DIR, PRELOAD_PROBE_SOURCE, WORK_DIR.
cmake_minimum_required(VERSION 3.21)

set(prefix "${WORK_DIR}/install test/${VARIANT} prefix")
set(weft_build "${WORK_DIR}/weft-build")
file(GLOB stale LIST_DIRECTORIES true "${WORK_DIR}/*")
list(REMOVE_ITEM stale "${weft_build}")
if(stale)
  file(REMOVE_RECURSE ${stale})
endif()
file(MAKE_DIRECTORY "${WORK_DIR}")

# run(command... [WORKING_DIRECTORY dir] [OUTPUT var] [ERRORS var]): runs a command and
# stops the test with its output when it fails. OUTPUT gets stdout, ERRORS stderr.
function(run)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "WORKING_DIRECTORY;OUTPUT;ERRORS" "")
  set(dir "${WORK_DIR}")
  if(arg_WORKING_DIRECTORY)
    set(dir "${arg_WORKING_DIRECTORY}")
  endif()
  execute_process(COMMAND ${arg_UNPARSED_ARGUMENTS} WORKING_DIRECTORY "${dir}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${arg_UNPARSED_ARGUMENTS}\n${out}${err}")
  endif()
  message(STATUS "${arg_UNPARSED_ARGUMENTS}\n${out}${err}")
  if(arg_OUTPUT)
    set(${arg_OUTPUT} "${out}" PARENT_SCOPE)
  endif()
  if(arg_ERRORS)
    set(${arg_ERRORS} "${err}" PARENT_SCOPE)
  endif()
endfunction()

# Programs run from the prefix must not be helped by the loader path.
set(no_loader_path ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH --unset=LD_PRELOAD)

# Install.
if(VARIANT STREQUAL WEFT_BUILD_KIND)
  set(build_dir "${WEFT_BUILD_DIR}")
  set(have_tools ${WEFT_BUILD_TOOLS})
  set(have_preload ${WEFT_BUILD_PTHREADPOOL})
  if(NOT WEFT_PTHREADPOOL_SHARED)
    set(have_preload OFF)
  endif()
else()
  set(build_dir "${weft_build}")
  set(have_tools ON)
  set(have_preload ON)
  if(VARIANT STREQUAL "shared")
    set(shared ON)
  else()
    set(shared OFF)
  endif()
  run(${CMAKE_COMMAND} -S "${WEFT_SOURCE_DIR}" -B "${weft_build}" -G "${WEFT_GENERATOR}"
      -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
      -DCMAKE_BUILD_TYPE=${WEFT_BUILD_TYPE} -DBUILD_SHARED_LIBS=${shared}
      -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_EXAMPLES=OFF
      -DWEFT_BUILD_TOOLS=ON -DWEFT_BUILD_PTHREADPOOL=ON -DWEFT_PTHREADPOOL_SHARED=ON
      -DWEFT_INSTALL=ON -DWEFT_SANITIZE=)
  run(${CMAKE_COMMAND} --build "${weft_build}" --parallel 2)
endif()
run(${CMAKE_COMMAND} --install "${build_dir}" --prefix "${prefix}")

# (a) find_package(weft). A shared install must not need PkgConfig (or hwloc's .pc):
# the consumer is configured with PkgConfig disabled.
set(consumer_args "")
if(VARIANT STREQUAL "shared")
  set(consumer_args -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON)
endif()
run(${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/consumer-cmake"
    -G "${WEFT_GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release ${consumer_args})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/consumer-cmake")
run(${no_loader_path} "${WORK_DIR}/consumer-cmake/consumer")

# (b) pkg-config. Its output escapes the space in the prefix with a backslash, as a shell
# reads it; separate_arguments(UNIX_COMMAND) reads it the same way. A static libweft needs
# --static (hwloc comes in through Requires.private); a shared one works either way and
# is resolved with only the prefix's pkgconfig folder visible: no hwloc.pc needed.
set(pc_dir "${prefix}/${LIBDIR}/pkgconfig")
if(VARIANT STREQUAL "static")
  set(ENV{PKG_CONFIG_PATH} "${pc_dir}:$ENV{PKG_CONFIG_PATH}")
  set(pc_modes --static)
  run(${PKG_CONFIG} --print-requires-private weft OUTPUT requires)
  if(NOT requires MATCHES "hwloc")
    message(FATAL_ERROR "static weft.pc: hwloc is not in Requires.private: ${requires}")
  endif()
  # hwloc's own --static line can be unusable: Debian 12's hwloc.pc lists -ludev, which
  # libhwloc-dev does not pull in (libudev-dev). Then weft's cannot link either; the
  # consumer is built from weft's own flags plus hwloc's shared ones instead, and says so.
  run(${PKG_CONFIG} --static --libs hwloc OUTPUT hwloc_static)
  separate_arguments(hwloc_static UNIX_COMMAND "${hwloc_static}")
  file(WRITE "${WORK_DIR}/empty.c" "int main(void) { return 0; }\n")
  execute_process(COMMAND ${C_COMPILER} "${WORK_DIR}/empty.c" ${hwloc_static}
                          -o "${WORK_DIR}/empty"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(STATUS "NOTE: hwloc's `pkg-config --static --libs hwloc` (${hwloc_static}) "
                   "does not link on this machine:\n${out}The --static consumer is built "
                   "with `pkg-config --libs weft` and `pkg-config --libs hwloc` instead.")
    set(pc_modes static-with-shared-hwloc)
  endif()
else()
  set(ENV{PKG_CONFIG_LIBDIR} "${pc_dir}")
  unset(ENV{PKG_CONFIG_PATH})
  set(pc_modes "" --static)
endif()
foreach(mode IN LISTS pc_modes)
  if(mode STREQUAL "static-with-shared-hwloc")
    run(${PKG_CONFIG} --cflags --libs weft OUTPUT flags)
    run(${PKG_CONFIG} --libs hwloc OUTPUT hwloc_flags)
    string(STRIP "${flags} ${hwloc_flags}" flags)
  else()
    run(${PKG_CONFIG} --cflags --libs ${mode} weft OUTPUT flags)
    string(STRIP "${flags}" flags)
  endif()
  if(VARIANT STREQUAL "static" AND NOT flags MATCHES "-lhwloc")
    message(FATAL_ERROR "static weft.pc does not bring in hwloc: ${flags}")
  elseif(VARIANT STREQUAL "shared" AND flags MATCHES "hwloc")
    message(FATAL_ERROR "shared weft.pc names hwloc, which its consumers do not need: ${flags}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(exe "${WORK_DIR}/consumer-pkgconfig${mode}")
  set(rpath "")
  if(VARIANT STREQUAL "shared")
    # What a user does for a shared library outside the loader path: record its folder.
    run(${PKG_CONFIG} --variable=libdir weft OUTPUT libdir)
    string(STRIP "${libdir}" libdir)
    separate_arguments(libdir UNIX_COMMAND "${libdir}")
    set(rpath "-Wl,-rpath,${libdir}")
  endif()
  run(${CXX_COMPILER} -std=c++17 "${CONSUMER_SOURCE_DIR}/main.cpp" ${flags} ${rpath}
      -o "${exe}")
  run(${no_loader_path} "${exe}")
endforeach()

# readelf_runpath(file var): the file's RUNPATH (empty without one, or without readelf).
find_program(READELF readelf)
function(readelf_runpath file var)
  set(${var} "" PARENT_SCOPE)
  if(READELF)
    run(${READELF} -d "${file}" OUTPUT dynamic)
    if(dynamic MATCHES "\\(RUNPATH\\)[^[]*\\[([^]]*)\\]")
      set(${var} "${CMAKE_MATCH_1}" PARENT_SCOPE)
    endif()
  endif()
endfunction()

# (c) The installed tool runs from the prefix. Shared: libweft.so.0 is not on the loader
# path, so it is found only through RUNPATH ($ORIGIN/../lib).
if(have_tools)
  set(probe "${prefix}/${BINDIR}/weft-probe")
  if(VARIANT STREQUAL "shared")
    readelf_runpath("${probe}" runpath)
    if(READELF AND NOT runpath MATCHES "\\$ORIGIN")
      message(FATAL_ERROR "${probe}: no $ORIGIN RUNPATH (RUNPATH: '${runpath}')")
    endif()
  endif()
  run(${no_loader_path} "${probe}" --synthetic "pack:1 core:2 pu:1")
endif()

# (d) libweft_pthreadpool.so preloaded. LD_PRELOAD splits its value at spaces, so the
# library is named relative to the prefix (the loader makes that absolute, space
# included, before it expands $ORIGIN). The loader only warns, and the program still
# exits 0, when a preload fails: any loader output fails the test.
if(have_preload)
  set(preload "${LIBDIR}/libweft_pthreadpool.so")
  if(VARIANT STREQUAL "shared")
    readelf_runpath("${prefix}/${preload}" runpath)
    if(READELF AND NOT runpath MATCHES "\\$ORIGIN")
      message(FATAL_ERROR "${preload}: no $ORIGIN RUNPATH (RUNPATH: '${runpath}')")
    endif()
  endif()
  run(${C_COMPILER} "${PRELOAD_PROBE_SOURCE}" -o "${WORK_DIR}/preload_probe" -ldl)
  foreach(program /bin/true "${WORK_DIR}/preload_probe")
    run(${no_loader_path} LD_PRELOAD=${preload} ${program}
        WORKING_DIRECTORY "${prefix}" ERRORS errors)
    if(NOT errors STREQUAL "")
      message(FATAL_ERROR "LD_PRELOAD=${preload} ${program}: ${errors}")
    endif()
  endforeach()
endif()
message(STATUS "install_${VARIANT}: passed (prefix '${prefix}')")
