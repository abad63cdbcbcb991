# WEFT_FUZZ=ON: the libFuzzer targets of tests/fuzz (scripts/fuzz.sh builds and runs
# them). libFuzzer ships with clang (Debian 12: clang and libclang-rt-14-dev), so such a
# build is clang's from the start:
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DWEFT_FUZZ=ON
# Everything, weft included, is compiled with -fsanitize=fuzzer-no-link,address,undefined:
# coverage feedback from the library the parsers live in, and its memory errors and
# undefined behaviour caught where they happen. The targets themselves link
# -fsanitize=fuzzer, which brings libFuzzer and its main (weft_fuzz_target below).
set(_weft_fuzz_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer -g)

if(WEFT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "WEFT_FUZZ needs clang for libFuzzer, not ${CMAKE_CXX_COMPILER_ID}: "
            "configure a fresh build directory with CC=clang CXX=clang++ "
            "(Debian: apt-get install clang libclang-rt-14-dev)")
  endif()
  if(NOT WEFT_SANITIZE STREQUAL "")
    message(FATAL_ERROR "WEFT_FUZZ brings its own sanitizers (address, undefined): "
            "leave WEFT_SANITIZE empty")
  endif()
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS -fsanitize=fuzzer)
  check_cxx_source_compiles([[
    #include <cstddef>
    #include <cstdint>
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }
  ]] WEFT_HAVE_LIBFUZZER)
  unset(CMAKE_REQUIRED_FLAGS)
  if(NOT WEFT_HAVE_LIBFUZZER)
    message(FATAL_ERROR "WEFT_FUZZ: ${CMAKE_CXX_COMPILER} cannot link -fsanitize=fuzzer; "
            "install the compiler-rt package of this clang (Debian 12: libclang-rt-14-dev)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link ${_weft_fuzz_sanitizers})
  add_link_options(-fsanitize=address,undefined)
endif()

# A libFuzzer binary: libFuzzer's main calls the target's LLVMFuzzerTestOneInput.
function(weft_fuzz_target target)
  target_compile_options(${target} PRIVATE -fsanitize=fuzzer)
  target_link_options(${target} PRIVATE -fsanitize=fuzzer)
endfunction()
