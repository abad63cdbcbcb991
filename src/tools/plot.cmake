# weft-plot: draws a trace as an SVG. Included from src/tools/CMakeLists.txt.
# It reads the trace with nlohmann/json and needs nothing of weft itself; without the
# package it is left out, and the other tools still build.
find_package(nlohmann_json 3 QUIET)
if(NOT nlohmann_json_FOUND)
  message(WARNING "weft-plot: skipped, it needs nlohmann/json (Debian: nlohmann-json3-dev)")
  return()
endif()
add_executable(weft-plot weft_plot.cpp)
target_link_libraries(weft-plot PRIVATE nlohmann_json::nlohmann_json)
set_target_properties(weft-plot PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON)
weft_set_warnings(weft-plot)
weft_set_sanitizers(weft-plot)
if(WEFT_INSTALL)
  install(TARGETS weft-plot RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
