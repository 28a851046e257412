#include "paths.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace fs = std::filesystem;

namespace interop {
namespace {

bool IsRoot(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "protos", ec) && fs::is_regular_file(dir / "package.json", ec);
}

}  // namespace

std::string RepoRoot() {
  std::vector<fs::path> starts;
  std::error_code ec;
  fs::path exe = fs::canonical("/proc/self/exe", ec);
  if (!ec) starts.push_back(exe.parent_path());
  fs::path cwd = fs::current_path(ec);
  if (!ec) starts.push_back(cwd);
  for (fs::path dir : starts) {
    for (;;) {
      if (IsRoot(dir)) return dir.string();
      if (dir == dir.parent_path()) break;
      dir = dir.parent_path();
    }
  }
  throw std::runtime_error("no repository root (a directory with protos/ and package.json) above the binary or the working directory");
}

std::string ResolvePath(const std::string& path) {
  if (path.empty()) throw std::runtime_error("empty path");
  fs::path p(path);
  if (p.is_absolute()) return path;
  std::error_code ec;
  if (fs::exists(p, ec)) return fs::absolute(p).string();
  return (fs::path(RepoRoot()) / p).string();
}

std::string FlagPath(const std::string& value, bool given) {
  return given ? ResolvePath(value) : (fs::path(RepoRoot()) / value).string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read " + path);
  return text.str();
}

}  // namespace interop
