// Argument errors of the loop family: out of line, since they are cold and the
// message formatting would otherwise be instantiated with every loop body.
#include <string>

#include "weft/config.hpp"
#include "weft/detail/range_exec.hpp"

namespace weft::detail {

void throw_bad_range(const char* loop, std::size_t begin, std::size_t end) {
  throw ConfigError(std::string(loop) + ": begin = " + std::to_string(begin) +
                    " is greater than end = " + std::to_string(end));
}

void throw_bad_priority(Priority priority) {
  throw ConfigError("ForOptions::priority: " + std::to_string(static_cast<unsigned>(priority)) +
                    " is not a Priority");
}

void throw_bad_tile(const char* loop, const char* tile_name, const char* extent_name,
                    std::size_t extent) {
  throw ConfigError(std::string(loop) + ": " + tile_name + " = 0 with " + extent_name + " = " +
                    std::to_string(extent) + " (a tile must have at least one element)");
}

}  // namespace weft::detail
