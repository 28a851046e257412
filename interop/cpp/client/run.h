// One client run: the cases of the command line in order, one result line each.
#pragma once

#include <iosfwd>

#include "config.h"

namespace interop {

// Runs every case of cfg in order, each independently, printing one JSON line per case on out
// and each failure's reason on err. Returns the exit code: 0 when every case passed, else 1.
// With cfg.bench it runs the load mode instead.
int Run(const Config& cfg, std::ostream& out, std::ostream& err);

}  // namespace interop
