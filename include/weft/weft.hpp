// weft: task scheduling for machine-learning code on CPUs. The umbrella header.
#pragma once

#include "weft/config.hpp"
#include "weft/metrics.hpp"
#include "weft/scheduler.hpp"
#include "weft/task_group.hpp"
#include "weft/topology.hpp"
#include "weft/version.hpp"
