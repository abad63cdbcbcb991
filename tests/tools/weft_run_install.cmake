# Installs this build into a prefix with a space in its path, not on the loader path, and
# runs the installed weft-run from there: it must find the installed libraries relative
# to itself (<prefix>/bin/../<libdir>), hand them to the loader by a path the loader can
# read whole (LD_PRELOAD splits at spaces), and the program must get weft's definitions.
#
# Set by tests/tools/weft_run.cmake: BUILD_DIR, WORK_DIR, BINDIR, LIBDIR, CHILD (the
# weft-run-child program), HAVE_GOMP (1 when this build makes libweft_gomp.so).
cmake_minimum_required(VERSION 3.21)

set(prefix "${WORK_DIR}/weft run/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/links")

function(run)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUTPUT;ERRORS" "")
  execute_process(COMMAND ${arg_UNPARSED_ARGUMENTS} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${arg_UNPARSED_ARGUMENTS}\n${out}${err}")
  endif()
  message(STATUS "${arg_UNPARSED_ARGUMENTS}\n${out}${err}")
  set(${arg_OUTPUT} "${out}" PARENT_SCOPE)
  set(${arg_ERRORS} "${err}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
set(weft_run "${prefix}/${BINDIR}/weft-run")

# A shared libweft is found through weft-run's RUNPATH, relative to itself.
find_program(READELF readelf)
if(READELF)
  run(${READELF} -d "${weft_run}" OUTPUT dynamic)
  if(dynamic MATCHES "libweft\\.so" AND NOT dynamic MATCHES "RUNPATH[^\n]*\\$ORIGIN")
    message(FATAL_ERROR "${weft_run} needs libweft.so but has no $ORIGIN RUNPATH:\n${dynamic}")
  endif()
endif()

set(flags "")
set(expected_entries 2)
if(NOT HAVE_GOMP)
  set(flags --no-gomp)
  set(expected_entries 1)
endif()
run(${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH --unset=LD_PRELOAD
    "XDG_RUNTIME_DIR=${WORK_DIR}/links" "${weft_run}" ${flags} --threads 2 -- "${CHILD}"
    OUTPUT out ERRORS err)
# The loader only warns when a preload fails, and the program still runs: any output on
# stderr fails the test.
if(NOT err STREQUAL "")
  message(FATAL_ERROR "the installed weft-run's program wrote on stderr:\n${err}")
endif()
string(REGEX MATCHALL "entry [^\n]*" entries "${out}")
list(LENGTH entries count)
if(NOT count EQUAL expected_entries)
  message(FATAL_ERROR "expected ${expected_entries} LD_PRELOAD entries:\n${out}")
endif()
foreach(entry IN LISTS entries)
  if(NOT entry MATCHES "^entry (/[^ ]*) absolute=1 exists=1$")
    message(FATAL_ERROR "not an absolute, existing path without spaces: ${entry}")
  endif()
  # The entry is a link to the prefix's library folder.
  get_filename_component(real "${CMAKE_MATCH_1}" REALPATH)
  get_filename_component(installed "${prefix}/${LIBDIR}" REALPATH)
  if(NOT real MATCHES "^${installed}/libweft_")
    message(FATAL_ERROR "${CMAKE_MATCH_1} is not the installed library (it is ${real})")
  endif()
endforeach()
if(NOT out MATCHES "pthreadpool_create: [^\n]*libweft_pthreadpool\\.so\n")
  message(FATAL_ERROR "pthreadpool_create does not come from libweft_pthreadpool.so:\n${out}")
endif()
if(HAVE_GOMP AND NOT out MATCHES "omp_get_max_threads: [^\n]*libweft_gomp\\.so\n")
  message(FATAL_ERROR "omp_get_max_threads does not come from libweft_gomp.so:\n${out}")
endif()
if(NOT out MATCHES "\nWEFT_NUM_THREADS=2\n")
  message(FATAL_ERROR "--threads 2 did not reach the program:\n${out}")
endif()
message(STATUS "weft_run_install: passed (prefix '${prefix}')")
