#include "faults.h"

#include <sstream>

namespace interop {
namespace {

// Every fault of the contract, in its order.
const char* const kAll[] = {
    "greeting-punctuation", "again-wrong", "service-wrong", "length-utf16", "length-bytes",
    "recommend-share-set", "recommend-no-validation", "random-constant", "panda-float64",
    "stream-truncate", "greetings-reversed", "bidi-buffered", "unary-every-10th-unavailable",
    "single-worker", "count-limit-low", "count-limit-none", "article-limit-low",
    "health-serving-any", "version-wrong", "reflection-incomplete", "health-watch-silent",
    "health-services-not-serving", "health-watch-no-updates",
    "testing-empty-payload", "testing-aggregate-off", "testing-stream-drop-last",
    "testing-duplex-buffered", "testing-duplex-extra", "testing-no-echo-metadata",
    "testing-status-ignored", "testing-status-message-trimmed", "testing-implement-everything",
    "testing-empty-call-error", "testing-compression-unchecked",
    "testing-status-unknown", "testing-stream-status-ok", "testing-interval-ignored",
    "scripted-status-unknown", "scripted-message-mangled", "scripted-details-dropped",
    "scripted-trailers-as-headers", "scripted-headers-dropped", "scripted-metadata-joined",
    "scripted-int64-double", "scripted-enum-shifted", "scripted-map-keys-off",
    "scripted-floats-flushed", "scripted-bytes-truncated", "scripted-strings-truncated",
    "scripted-presence-lost", "scripted-repeated-truncated", "scripted-replies-drop-last",
    "scripted-request-info-empty", "scripted-peer-ipv4", "scripted-authority-dropped",
    "scripted-read-all", "scripted-delay-ignored", "scripted-unknown-dropped",
    "scripted-limits-ignored", "scripted-lifecycle-ignored", "scripted-cancel-ignored",
    "scripted-second-host-ignored", "scripted-shutdown-abrupt",
};

bool Known(const std::string& name) {
  for (const char* known : kAll) {
    if (name == known) return true;
  }
  return false;
}

}  // namespace

bool Faults::Parse(const std::string& list, Faults* out, std::string* error) {
  Faults faults;
  std::stringstream in(list);
  std::string name;
  while (!list.empty() && std::getline(in, name, ',')) {
    if (!Known(name)) {
      *error = "unknown fault \"" + name + "\"";
      return false;
    }
    faults.names_.insert(name);
  }
  *out = std::move(faults);
  return true;
}

std::string Faults::String() const {
  std::string out;
  for (const auto& name : names_) {
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

}  // namespace interop
