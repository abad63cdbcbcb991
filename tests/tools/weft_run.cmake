# weft-run's tests, included from tests/CMakeLists.txt: the GoogleTest suite
# (weft_run_test.cpp, launching weft_run_child.c) and a real install into a prefix with a
# space in its path (weft_run_install.cmake). Needs the tools and the pthreadpool library.
if(NOT TARGET weft-run OR NOT TARGET weft_pthreadpool)
  return()
endif()
get_target_property(_weft_run_pthreadpool_type weft_pthreadpool TYPE)
if(NOT _weft_run_pthreadpool_type STREQUAL "SHARED_LIBRARY")
  return()  # an archive cannot be preloaded
endif()

# The program weft-run launches: plain C, no weft, no sanitizer (like a user's program).
add_executable(weft-run-child ${CMAKE_CURRENT_LIST_DIR}/weft_run_child.c)
target_link_libraries(weft-run-child PRIVATE ${CMAKE_DL_LIBS})

# The libdir relative to the bindir, as src/tools/CMakeLists.txt computes it for weft-run.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}")
  set(_weft_run_test_libdir "${CMAKE_INSTALL_FULL_LIBDIR}")
else()
  file(RELATIVE_PATH _weft_run_test_libdir "/${CMAKE_INSTALL_BINDIR}" "/${CMAKE_INSTALL_LIBDIR}")
endif()
weft_add_test(weft-test-run ${CMAKE_CURRENT_LIST_DIR}/weft_run_test.cpp)
add_dependencies(weft-test-run weft-run weft-run-child weft_pthreadpool)
target_compile_definitions(weft-test-run PRIVATE
  "WEFT_RUN_EXE=\"$<TARGET_FILE:weft-run>\""
  "WEFT_RUN_CHILD=\"$<TARGET_FILE:weft-run-child>\""
  "WEFT_RUN_LIBDIR=\"${_weft_run_test_libdir}\""
  "WEFT_RUN_PTHREADPOOL_LIB=\"$<TARGET_LINKER_FILE:weft_pthreadpool>\""
  "WEFT_RUN_GOMP_LIB=\"$<$<TARGET_EXISTS:weft_gomp>:$<TARGET_LINKER_FILE:weft_gomp>>\"")
if(TARGET weft_gomp)
  add_dependencies(weft-test-run weft_gomp)
endif()
if(NOT WEFT_SANITIZE STREQUAL "")
  target_compile_definitions(weft-test-run PRIVATE WEFT_TEST_SANITIZED=1)
endif()

# The installed weft-run, from a prefix with a space in its path. A sanitizer build's
# libraries cannot be preloaded into a plain program (the install_* tests skip it too).
if(WEFT_SANITIZE STREQUAL "" AND WEFT_INSTALL)
  add_test(NAME weft_run_install
           COMMAND ${CMAKE_COMMAND}
             -DBUILD_DIR=${PROJECT_BINARY_DIR}
             -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/weft_run_install
             -DBINDIR=${CMAKE_INSTALL_BINDIR}
             -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
             -DCHILD=$<TARGET_FILE:weft-run-child>
             -DHAVE_GOMP=$<TARGET_EXISTS:weft_gomp>
             -P ${CMAKE_CURRENT_LIST_DIR}/weft_run_install.cmake)
  set_tests_properties(weft_run_install PROPERTIES TIMEOUT 120)
endif()
