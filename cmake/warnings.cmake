# Warnings are PRIVATE: they apply to weft's own code, never to a consumer's.
function(weft_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                           -Wnon-virtual-dtor -Wconversion -Wno-sign-conversion)
  endif()
endfunction()
