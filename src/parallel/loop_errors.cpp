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

void throw_bad_tile(const char* loop, const char* tile_name, const char* extent_name,
                    std::size_t extent) {
  throw ConfigError(std::string(loop) + ": " + tile_name + " = 0 with " + extent_name + " = " +
                    std::to_string(extent) + " (a tile must have at least one element)");
}

void throw_too_many_tiles(const char* loop, const TileDim* dims, unsigned n) {
  std::string tiles, args;
  for (unsigned d = 0; d < n; ++d) {
    const char* sep = d == 0 ? "" : ", ";
    tiles += (d == 0 ? "" : " x ") + std::to_string(ceil_div(dims[d].extent, dims[d].tile));
    args += sep + std::string(dims[d].extent_name) + " = " + std::to_string(dims[d].extent) +
            " / " + dims[d].tile_name + " = " + std::to_string(dims[d].tile);
  }
  throw ConfigError(std::string(loop) + ": " + tiles + " tiles (" + args +
                    ") overflow std::size_t (at most " +
                    std::to_string(static_cast<std::size_t>(-1)) + " tiles); use larger tiles");
}

}  // namespace weft::detail
