#include "state.h"

namespace interop {

std::atomic<int32_t> g_active_scripted_calls{0};

HealthTable& HealthTable::Get() {
  static HealthTable table;
  return table;
}

void HealthTable::Set(const std::string& service, ServingStatus status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    by_name_[service] = status;
    ++generation_;
  }
  changed_.notify_all();
}

std::optional<ServingStatus> HealthTable::Lookup(const std::string& service, uint64_t* generation) {
  std::lock_guard<std::mutex> lock(mu_);
  *generation = generation_;
  auto it = by_name_.find(service);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

void HealthTable::WaitChange(uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return generation_ != seen; });
}

void CallRecord::ReplySent() {
  std::lock_guard<std::mutex> lock(mu_);
  ++replies_sent_;
}

void CallRecord::End(bool cancelled) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = cancelled ? "cancelled" : "completed";
    done_ = true;
  }
  ended_cv_.notify_all();
}

bool CallRecord::WaitEnded(std::chrono::milliseconds timeout, const std::function<bool()>& stop) {
  auto until = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  while (!done_) {
    if (stop && stop()) return false;
    auto now = std::chrono::steady_clock::now();
    if (now >= until) return false;
    // A short step: the asking call's cancellation is polled (the sync API has no callback).
    ended_cv_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(5)));
  }
  return true;
}

scripted::CallRecord CallRecord::Proto() {
  std::lock_guard<std::mutex> lock(mu_);
  scripted::CallRecord out;
  out.set_ended(ended_);
  out.set_replies_sent(replies_sent_);
  return out;
}

CallRecords& CallRecords::Get() {
  static CallRecords records;
  return records;
}

std::shared_ptr<CallRecord> CallRecords::Start(const std::string& id) {
  auto record = std::make_shared<CallRecord>();
  std::lock_guard<std::mutex> lock(mu_);
  by_id_[id] = record;
  return record;
}

std::shared_ptr<CallRecord> CallRecords::Find(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

}  // namespace interop
