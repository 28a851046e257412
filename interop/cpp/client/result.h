// The lines the client prints: one JSON object per line on stdout, flushed as it goes.
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace interop {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// x rounded to one decimal.
double Tenths(double x);

// The milliseconds since start, to one decimal.
double MillisSince(Clock::time_point start);

// One case's result line: {"case","status","ms"[,"error"][,"observed"]}.
Json ResultLine(const std::string& name, double ms, const std::optional<std::string>& error,
                const std::optional<Json>& observed);

// Writes one JSON line and flushes it. Text that is not UTF-8 is replaced, never thrown on.
void WriteLine(std::ostream& out, const Json& line);

}  // namespace interop
