#include "common/small_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace weft::detail {

std::optional<std::string> read_small_file(const std::string& path) {
  // open/read rather than iostreams: procfs files report size 0, and an iostream's
  // failure modes would turn a vanished thread into an exception on the metrics path.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace weft::detail
