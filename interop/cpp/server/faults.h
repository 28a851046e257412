// The self-test faults of docs/peer-contract.md: each breaks exactly one behaviour.
#pragma once

#include <set>
#include <string>

namespace interop {

class Faults {
 public:
  // Reads a --fault value (comma-separated names, "" for none); false with *error set when a
  // name is not a fault of the contract.
  static bool Parse(const std::string& list, Faults* out, std::string* error);

  bool Has(const char* name) const { return names_.count(name) > 0; }
  // The set as the --fault value that produces it.
  std::string String() const;

 private:
  std::set<std::string> names_;
};

}  // namespace interop
