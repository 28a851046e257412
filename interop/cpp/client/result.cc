#include "result.h"

#include <cmath>
#include <ostream>

namespace interop {

double Tenths(double x) { return std::round(x * 10) / 10; }

double MillisSince(Clock::time_point start) {
  return Tenths(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
}

Json ResultLine(const std::string& name, double ms, const std::optional<std::string>& error,
                const std::optional<Json>& observed) {
  Json line;
  line["case"] = name;
  line["status"] = error ? "failed" : "passed";
  line["ms"] = ms;
  if (error) line["error"] = *error;
  if (observed) line["observed"] = *observed;
  return line;
}

void WriteLine(std::ostream& out, const Json& line) {
  out << line.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
  out.flush();
}

}  // namespace interop
