// Reading a whole small file (procfs, sysfs, cgroupfs) into a string: one reader for
// every stage that looks at the kernel's text files.
#pragma once

#include <optional>
#include <string>

namespace weft::detail {

// The file's whole text; nullopt when it cannot be opened or read (a thread that has
// exited, a controller that is not mounted). Never throws on a missing file: the
// metrics path calls it for threads that may vanish at any moment.
std::optional<std::string> read_small_file(const std::string& path);

}  // namespace weft::detail
