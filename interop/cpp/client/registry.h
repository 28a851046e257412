// Every case of the seeds, grpc.testing, testing-edges, discovery and security suites, by name.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "result.h"
#include "target.h"

namespace interop {

using CaseFunc = std::function<void(const Target&)>;
using CaseList = std::vector<std::pair<std::string, CaseFunc>>;

CaseList SeedsCases();
CaseList TestingCases();    // grpc.testing
CaseList EdgesCases();      // testing-edges
CaseList DiscoveryCases();  // discovery
CaseList SecurityCases();   // security

// Runs the named case; returns its failure (nullopt: passed) and what it observed. The one
// place where checks count: under no-checks a failed check is dropped. An unknown name or an
// exception other than a failed check still fails.
std::pair<std::optional<std::string>, std::optional<Json>> RunCase(const std::string& name, Target target);

}  // namespace interop
