#include "checks.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace interop {

void Fail(const std::string& message) { throw CaseFailure(message); }

std::string Quote(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string CodeName(grpc::StatusCode code) {
  static const char* const names[] = {
      "OK",           "CANCELLED",         "UNKNOWN",            "INVALID_ARGUMENT",    "DEADLINE_EXCEEDED",
      "NOT_FOUND",    "ALREADY_EXISTS",    "PERMISSION_DENIED",  "RESOURCE_EXHAUSTED",  "FAILED_PRECONDITION",
      "ABORTED",      "OUT_OF_RANGE",      "UNIMPLEMENTED",      "INTERNAL",            "UNAVAILABLE",
      "DATA_LOSS",    "UNAUTHENTICATED"};
  int n = static_cast<int>(code);
  if (n >= 0 && n < static_cast<int>(std::size(names))) return names[n];
  return "CODE(" + std::to_string(n) + ")";
}

std::string Describe(const grpc::Status& status) {
  return CodeName(status.error_code()) + " " + Quote(status.error_message());
}

void ExpectOk(const std::string& call, const grpc::Status& status) {
  if (!status.ok()) Fail(call + ": expected status OK, got " + Describe(status));
}

void ExpectStatus(const std::string& call, const grpc::Status& status, grpc::StatusCode code,
                  const std::string& contains) {
  if (status.ok()) Fail(call + ": expected status " + CodeName(code) + ", got OK");
  if (status.error_code() != code || status.error_message().find(contains) == std::string::npos) {
    std::string want = CodeName(code);
    if (!contains.empty()) want += " with a message containing " + Quote(contains);
    Fail(call + ": expected status " + want + ", got " + Describe(status));
  }
}

void ExpectExactStatus(const std::string& call, const grpc::Status& status, grpc::StatusCode code,
                       const std::string& message) {
  std::string want = CodeName(code) + " " + Quote(message);
  if (status.ok()) Fail(call + ": expected status " + want + ", got OK");
  if (status.error_code() != code || status.error_message() != message) {
    Fail(call + ": expected status " + want + ", got " + Describe(status));
  }
}

namespace {

std::string QuoteList(const std::vector<std::string>& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) out += (i ? " " : "") + Quote(list[i]);
  return out + "]";
}

std::string ReplyAt(const std::vector<std::string>& list, size_t i) {
  return i < list.size() ? Quote(list[i]) : "none";
}

}  // namespace

void ExpectList(const std::string& call, const std::vector<std::string>& want, const std::vector<std::string>& got) {
  if (want == got) return;
  constexpr size_t kListed = 10;
  if (want.size() <= kListed && got.size() <= kListed) {
    Fail(call + ": expected " + std::to_string(want.size()) + " replies " + QuoteList(want) + ", got " +
         std::to_string(got.size()) + " " + QuoteList(got));
  }
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  Fail(call + ": expected " + std::to_string(want.size()) + " replies, got " + std::to_string(got.size()) +
       "; reply " + std::to_string(i + 1) + ": expected " + ReplyAt(want, i) + ", got " + ReplyAt(got, i));
}

void ExpectIncludes(const std::string& call, const std::vector<std::string>& want, const std::vector<std::string>& got) {
  std::vector<std::string> missing;
  for (auto& w : want) {
    if (std::find(got.begin(), got.end(), w) == got.end()) missing.push_back(w);
  }
  if (!missing.empty()) {
    Fail(call + ": missing " + QuoteList(missing) + " (expected " + QuoteList(want) + " among them, got " +
         QuoteList(got) + ")");
  }
}

}  // namespace interop
