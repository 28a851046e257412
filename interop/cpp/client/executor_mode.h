// Executor mode (docs/peer-contract.md, "Executor mode"): one process runs many client runs,
// one at a time, each asked for by a JSON line on stdin.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace interop {

// Whether the command line asks for executor mode; throws FlagError when --executor is not the
// only flag (the flags of each run come on stdin).
bool ExecutorMode(const std::vector<std::string>& args);

// Runs the requests read from in until its end; returns the process's exit code.
int Execute(std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace interop
