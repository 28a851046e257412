// Load mode (docs/peer-contract.md, "Load mode"): a fixed, bounded load on one channel against
// grpc.testing.TestService, one JSON line per measurement.
#pragma once

#include <iosfwd>

#include "config.h"

namespace interop {

// Runs the measurements of cfg.bench in order; returns 0 when every one printed figures, else 1.
int RunBench(const Config& cfg, std::ostream& out, std::ostream& err);

}  // namespace interop
