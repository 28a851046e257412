// What belongs to the process rather than to one gRPC server (a restarted server keeps it):
// the health statuses set by script.set_health, the scripted call records and the number of
// scripted calls in flight (docs/peer-contract.md, "Health" and "Server: interop.scripted.Scripted").
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "grpc/health/v1/health.pb.h"
#include "interop/scripted.pb.h"

namespace interop {

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

// The statuses script.set_health gave, by service name.
class HealthTable {
 public:
  static HealthTable& Get();

  // Sets a status and wakes every Watch.
  void Set(const std::string& service, ServingStatus status);
  // The status set for service, if any, and the table's generation (bumped by every Set).
  std::optional<ServingStatus> Lookup(const std::string& service, uint64_t* generation);
  // Waits until the generation differs from seen, or timeout passes.
  void WaitChange(uint64_t seen, std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, ServingStatus> by_name_;
  uint64_t generation_ = 0;
};

// How one call with a script.call_id ended.
class CallRecord {
 public:
  void ReplySent();
  void End(bool cancelled);
  // Waits until the call ended, at most timeout or until stop() says to give up; true when ended.
  bool WaitEnded(std::chrono::milliseconds timeout, const std::function<bool()>& stop);
  scripted::CallRecord Proto();

 private:
  std::mutex mu_;
  std::condition_variable ended_cv_;
  std::string ended_ = "running";
  int32_t replies_sent_ = 0;
  bool done_ = false;
};

// The process's call records, by call_id.
class CallRecords {
 public:
  static CallRecords& Get();
  // Records a call under id as running, replacing an earlier one.
  std::shared_ptr<CallRecord> Start(const std::string& id);
  std::shared_ptr<CallRecord> Find(const std::string& id);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<CallRecord>> by_id_;
};

// The scripted handlers running in this process.
extern std::atomic<int32_t> g_active_scripted_calls;

}  // namespace interop
