// The environment variables Config::from_env reads: the fuzz targets set them, the
// tests' EnvGuard (tests/topology/topology_test_util.hpp) clears them.
#pragma once

#include <cstdlib>

namespace weft::fuzz {

// WEFT_*, the OpenMP fallbacks and the launchers' rank variables: every name
// src/topology/config.cpp reads for from_env (TopologyFromEnv.EnvNamesListEveryVariable
// compares the two), not WEFT_METRICS, which makes a process write a file at exit.
inline constexpr const char* env_names[] = {"WEFT_NUM_THREADS",
                                            "WEFT_PINNING",
                                            "WEFT_CPUSET",
                                            "WEFT_PARTITION",
                                            "WEFT_RESERVED_WORKERS",
                                            "WEFT_SPIN_US",
                                            "WEFT_SPIN_MAX_US",
                                            "WEFT_USE_SMT",
                                            "WEFT_ADAPTIVE",
                                            "WEFT_MIN_WORKERS",
                                            "WEFT_BACKGROUND_NICE",
                                            "WEFT_AGING_PERIOD",
                                            "WEFT_METRICS_ENABLED",
                                            "WEFT_HARDWARE_COUNTERS",
                                            "WEFT_TRACE_CAPACITY",
                                            "WEFT_TRACE",
                                            "WEFT_MAX_QUEUED",
                                            "WEFT_QUEUE_POLICY",
                                            "WEFT_BACKGROUND_WORKERS",
                                            "WEFT_PERF_EVENTS",
                                            "OMP_NUM_THREADS",
                                            "OMP_PROC_BIND",
                                            "OMP_PLACES",
                                            "OMPI_COMM_WORLD_LOCAL_RANK",
                                            "OMPI_COMM_WORLD_LOCAL_SIZE",
                                            "SLURM_LOCALID",
                                            "SLURM_NTASKS_PER_NODE",
                                            "LOCAL_RANK",
                                            "LOCAL_WORLD_SIZE"};

// Unsets every variable in env_names: each input starts from a clean environment.
inline void clear_env() {
  for (const char* name : env_names) unsetenv(name);
}

}  // namespace weft::fuzz
