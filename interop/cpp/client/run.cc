#include "run.h"

#include <ostream>

#include "bench.h"
#include "registry.h"
#include "scripted/executor.h"
#include "scripted/instruction.h"
#include "target.h"

namespace interop {

int Run(const Config& cfg, std::ostream& out, std::ostream& err) {
  if (!cfg.bench.empty()) return RunBench(cfg, out, err);
  Target target;
  target.host = cfg.host;
  target.port = cfg.port;
  target.rpc_timeout = cfg.rpc_timeout;
  target.transport = cfg.transport;
  target.no_cancel = cfg.fault == ClientFault::kNoCancel;
  target.with_certificate = cfg.fault == ClientFault::kWithCertificate;
  target.no_checks = cfg.fault == ClientFault::kNoChecks;

  scripted::Executor executor(scripted::OptionsOf(cfg));
  int code = 0;
  for (const auto& name : cfg.cases) {
    auto start = Clock::now();
    std::optional<std::string> error;
    std::optional<Json> observed;
    if (cfg.scripted.contains(name)) {
      try {
        observed = executor.Execute(cfg.scripted[name]);
      } catch (const std::exception& e) {
        error = e.what();
      }
    } else {
      std::tie(error, observed) = RunCase(name, target);
    }
    if (error) {
      code = 1;
      err << name << ": FAILED: " << *error << std::endl;
    }
    WriteLine(out, ResultLine(name, MillisSince(start), error, observed));
  }
  return code;
}

}  // namespace interop
