// Compiled as C++17 with -Werror: every public header must be usable from C++17 code.
#include <weft/weft.hpp>

int weft_public_headers_cxx17_anchor() { return WEFT_VERSION_MAJOR; }
