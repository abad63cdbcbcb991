# WEFT_SANITIZE=thread | address. Flags go on weft's own targets (PRIVATE compile,
# link on the executables), never PUBLIC on the library a consumer links.
set(_weft_san_flags "")
if(WEFT_SANITIZE STREQUAL "thread")
  set(_weft_san_flags -fsanitize=thread -g -O1)
elseif(WEFT_SANITIZE STREQUAL "address")
  set(_weft_san_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer -g -O1)
elseif(NOT WEFT_SANITIZE STREQUAL "")
  message(FATAL_ERROR "WEFT_SANITIZE: '${WEFT_SANITIZE}' is not one of: thread, address")
endif()

function(weft_set_sanitizers target)
  if(_weft_san_flags)
    target_compile_options(${target} PRIVATE ${_weft_san_flags})
    get_target_property(_type ${target} TYPE)
    if(NOT _type STREQUAL "STATIC_LIBRARY")
      target_link_options(${target} PRIVATE ${_weft_san_flags})
    endif()
  endif()
endfunction()
