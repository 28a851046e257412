#include "registry.h"

#include "checks.h"

namespace interop {

std::pair<std::optional<std::string>, std::optional<Json>> RunCase(const std::string& name, Target target) {
  static const CaseList all = [] {
    CaseList list;
    for (auto suite : {SeedsCases, TestingCases, EdgesCases, DiscoveryCases, SecurityCases}) {
      for (auto& c : suite()) list.push_back(c);
    }
    return list;
  }();
  std::optional<Json> observed;
  target.observed = &observed;
  for (auto& [case_name, run] : all) {
    if (case_name != name) continue;
    try {
      run(target);
      return {std::nullopt, observed};
    } catch (const CaseFailure& failure) {
      if (target.no_checks) return {std::nullopt, observed};
      return {failure.what(), observed};
    } catch (const std::exception& e) {
      return {std::string("exception: ") + e.what(), std::nullopt};
    }
  }
  return {"unknown test case: " + name, std::nullopt};
}

}  // namespace interop
