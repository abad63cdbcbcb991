// Compiled as C++17 with -Werror: the Eigen adapter header is public too.
#define EIGEN_USE_THREADS
#include <weft/eigen.hpp>

int weft_eigen_header_cxx17_anchor() { return 0; }
