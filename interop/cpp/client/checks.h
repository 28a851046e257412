// The cases' checks. A check that fails throws CaseFailure, whose text names the call and its
// input, what was expected and what came back; the case stops there.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

namespace interop {

struct CaseFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Fail(const std::string& message);

// A string as a JSON string literal ("…" with escapes).
std::string Quote(const std::string& text);

// The canonical name of a status code (INVALID_ARGUMENT).
std::string CodeName(grpc::StatusCode code);

// A status as CODE "message".
std::string Describe(const grpc::Status& status);

inline std::string Show(const std::string& v) { return Quote(v); }
inline std::string Show(const char* v) { return Quote(v); }
inline std::string Show(bool v) { return v ? "true" : "false"; }
template <typename T>
std::string Show(T v) {
  return std::to_string(v);
}

// want == got, else "call: expected WANT, got GOT".
template <typename W, typename G>
void Expect(const std::string& call, const W& want, const G& got) {
  if (!(want == got)) Fail(call + ": expected " + Show(want) + ", got " + Show(got));
}

// The call succeeded.
void ExpectOk(const std::string& call, const grpc::Status& status);

// The call succeeded and gave want.
template <typename W, typename G>
void ExpectOk(const std::string& call, const grpc::Status& status, const W& want, const G& got) {
  ExpectOk(call, status);
  Expect(call, want, got);
}

// The call failed with code and a message containing `contains`.
void ExpectStatus(const std::string& call, const grpc::Status& status, grpc::StatusCode code,
                  const std::string& contains = "");

// The call failed with exactly code and message.
void ExpectExactStatus(const std::string& call, const grpc::Status& status, grpc::StatusCode code,
                       const std::string& message);

// The whole list of replies a stream gave.
void ExpectList(const std::string& call, const std::vector<std::string>& want, const std::vector<std::string>& got);

// Every value of want is among got.
void ExpectIncludes(const std::string& call, const std::vector<std::string>& want, const std::vector<std::string>& got);

}  // namespace interop
