// --workers: copies of this program serving the same port with SO_REUSEPORT.
#pragma once

#include <string>
#include <vector>

#include "config.h"

namespace interop {

class WorkerPool {
 public:
  // Starts cfg.ExtraWorkers() workers on port and waits until each has printed its listening
  // line; false with *error set (the ones started are stopped).
  bool Start(const Config& cfg, int port, std::string* error);
  // SIGTERM to every worker, then waits for them (SIGKILL after 3 s).
  void Stop();

 private:
  struct Worker {
    int pid;
    int stdout_fd;
  };
  std::vector<Worker> workers_;
};

}  // namespace interop
