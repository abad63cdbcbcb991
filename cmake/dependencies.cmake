# Everything weft and its tests need, found from the system: nothing is downloaded.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
# IMPORTED_TARGET gives PkgConfig::hwloc; weftConfig.cmake re-creates it for consumers.
pkg_check_modules(hwloc REQUIRED IMPORTED_TARGET hwloc>=2.0)
