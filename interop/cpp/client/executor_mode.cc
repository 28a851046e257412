#include "executor_mode.h"

#include <algorithm>
#include <istream>
#include <ostream>

#include "config.h"
#include "result.h"
#include "run.h"

namespace interop {
namespace {

// The flag's name in any of Go's forms (-executor, --executor, --executor=V).
bool NamesExecutor(const std::string& arg) {
  if (arg.empty() || arg[0] != '-') return false;
  std::string name = arg.substr(arg.size() > 1 && arg[1] == '-' ? 2 : 1);
  return name.substr(0, name.find('=')) == "executor";
}

struct End {
  Json run = -1;
  int exit_code = 0;
  std::string error;
};

// One request line's end line, after running it.
End Serve(const std::string& line, std::ostream& out, std::ostream& err) {
  End end;
  Json request = Json::parse(line, nullptr, false);
  if (request.is_discarded() || !request.is_object()) {
    end.exit_code = 2;
    end.error = "not a request: a JSON object {\"run\":N,\"args\":[...]} per line";
    return end;
  }
  if (!request.contains("run") || !request["run"].is_number()) {
    end.exit_code = 2;
    end.error = "not a request: \"run\" must be a number";
    return end;
  }
  end.run = request["run"];
  const Json& raw = request.contains("args") ? request["args"] : Json();
  bool strings = raw.is_array() && std::all_of(raw.begin(), raw.end(), [](const Json& a) { return a.is_string(); });
  if (!strings) {
    end.exit_code = 2;
    end.error = "not a request: \"args\" must be a list of strings";
    return end;
  }
  std::vector<std::string> args;
  for (auto& a : raw) args.push_back(a.get<std::string>());
  Config cfg;
  try {
    cfg = ParseFlags(args);
    if (!cfg.bench.empty()) throw FlagError("--bench (load mode) is not taken in executor mode");
  } catch (const HelpRequested&) {
    end.exit_code = 2;
    end.error = "-help is not taken in executor mode";
  } catch (const FlagError& e) {
    end.exit_code = 2;
    end.error = e.what();
  }
  if (end.exit_code == 2) {
    err << "client: " << end.error << std::endl;
    return end;
  }
  try {
    end.exit_code = Run(cfg, out, err);
  } catch (const std::exception& e) {
    // A defect of the client fails this request only; the next gets a clean start.
    err << "client: " << e.what() << std::endl;
    end.exit_code = 1;
  }
  return end;
}

}  // namespace

bool ExecutorMode(const std::vector<std::string>& args) {
  if (std::none_of(args.begin(), args.end(), NamesExecutor)) return false;
  bool only = args.size() == 1 && (args[0] == "-executor" || args[0] == "--executor" ||
                                   args[0] == "-executor=true" || args[0] == "--executor=true");
  if (!only) throw FlagError("--executor must be the only flag (the flags of each run come on stdin)");
  return true;
}

int Execute(std::istream& in, std::ostream& out, std::ostream& err) {
  std::string line;
  while (std::getline(in, line)) {
    End end = Serve(line, out, err);
    Json json;
    json["run"] = end.run;
    json["exit_code"] = end.exit_code;
    if (!end.error.empty()) json["error"] = end.error;
    WriteLine(out, json);
    if (!out) return 1;
    WriteLine(err, json);  // everything this request wrote to stderr comes before it
  }
  return 0;
}

}  // namespace interop
