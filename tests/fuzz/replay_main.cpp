// Runs a fuzz target once over every file of the directories (or files) it is given: the
// seed corpus as a regression test in the normal build, and any input found by
// libFuzzer, without libFuzzer. Exits non-zero when a path holds no input; a finding
// aborts in the target.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  for (int a = 1; a < argc; ++a) {
    std::vector<fs::path> inputs;
    std::error_code ec;
    if (fs::is_directory(argv[a], ec)) {
      for (const fs::directory_entry& e : fs::directory_iterator(argv[a], ec))
        if (e.is_regular_file()) inputs.push_back(e.path());
      std::sort(inputs.begin(), inputs.end());
    } else if (fs::is_regular_file(argv[a], ec)) {
      inputs.emplace_back(argv[a]);
    }
    if (inputs.empty()) {
      std::fprintf(stderr, "%s: no input in '%s'\n", argv[0], argv[a]);
      return 1;
    }
    for (const fs::path& path : inputs) {
      std::ifstream in(path, std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
      std::fprintf(stderr, "replay %s (%zu bytes)\n", path.c_str(), bytes.size());
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
    std::printf("%s: %zu inputs from '%s' ran without a finding\n", argv[0], inputs.size(),
                argv[a]);
  }
  return 0;
}
