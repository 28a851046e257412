// Paths of the command line: relative ones resolve against the working directory, or else the
// repository root (the directory above the binary or the working directory holding protos/ and
// package.json), as the other clients resolve them.
#pragma once

#include <string>

namespace interop {

// The repository root; throws std::runtime_error when none is found.
std::string RepoRoot();

// A path given on the command line: absolute as it is; relative, in the working directory when
// it exists there, else under the repository root.
std::string ResolvePath(const std::string& path);

// A flag's path: ResolvePath when the flag was given, else the default under the root.
std::string FlagPath(const std::string& value, bool given);

// The whole file; throws std::runtime_error naming it when it cannot be read.
std::string ReadFile(const std::string& path);

}  // namespace interop
