// The C++ (gRPC C++) peer's interop client (docs/peer-contract.md, "Client"): a one-shot run of
// the flags' cases, or with --executor alone the runs asked for on stdin ("Executor mode").
#include <iostream>

#include "config.h"
#include "executor_mode.h"
#include "run.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (interop::ExecutorMode(args)) return interop::Execute(std::cin, std::cout, std::cerr);
    interop::Config cfg = interop::ParseFlags(args);
    return interop::Run(cfg, std::cout, std::cerr);
  } catch (const interop::HelpRequested&) {
    std::cerr << interop::Usage();
    return 0;
  } catch (const interop::FlagError& e) {
    std::cerr << "client: " << e.what() << std::endl;
    return 2;
  }
}
