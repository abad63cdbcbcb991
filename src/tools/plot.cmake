# weft-plot: draws a trace as an SVG. Included from src/tools/CMakeLists.txt.
# It needs only the JSON reader of the observe stage, compiled in directly, so it does
# not depend on weft's (hidden) internal symbols.
add_executable(weft-plot weft_plot.cpp ${PROJECT_SOURCE_DIR}/src/observe/json_reader.cpp)
target_include_directories(weft-plot PRIVATE ${PROJECT_SOURCE_DIR}/src)
set_target_properties(weft-plot PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON)
weft_set_warnings(weft-plot)
weft_set_sanitizers(weft-plot)
if(WEFT_INSTALL)
  install(TARGETS weft-plot RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
