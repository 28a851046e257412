#include "scripted/instruction.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/json_util.h>

namespace interop::scripted {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const std::vector<std::string> kMethods = {"Unary", "ServerStream", "ClientStream", "BidiStream"};

bool ClientStreams(const std::string& method) { return method == "ClientStream" || method == "BidiStream"; }

std::string TypeName(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

int64_t Integer(const Json& v, const std::string& what) {
  if (!v.is_number_integer()) throw BadInstruction(what + " must be an integer, got " + TypeName(v));
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    throw BadInstruction(what + " is out of range: " + TypeName(v));
  }
  return v.get<int64_t>();
}

std::string Text(const Json& v, const std::string& what) {
  if (!v.is_string()) throw BadInstruction(what + " must be a string, got " + TypeName(v));
  return v.get<std::string>();
}

std::string FromHex(const std::string& hex, const std::string& what) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2) throw BadInstruction(what + ": " + TypeName(hex) + " is not hex: odd length");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) throw BadInstruction(what + ": " + TypeName(hex) + " is not hex");
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// A metadata value: a JSON string, or {"$bytes":"hex"}.
std::string MetadataValue(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.size() == 1 && v.contains("$bytes") && v["$bytes"].is_string()) {
    return FromHex(v["$bytes"].get<std::string>(), "$bytes");
  }
  throw BadInstruction("the value must be a string or {\"$bytes\":\"hex\"}");
}

std::vector<CallMetadatum> ReadMetadata(const Json& list) {
  std::vector<CallMetadatum> out;
  if (list.is_null()) return out;
  if (!list.is_array()) throw BadInstruction("metadata must be a list, got " + TypeName(list));
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& m = list[i];
    if (!m.is_object() || !m.contains("key") || !m["key"].is_string()) {
      throw BadInstruction("metadata " + std::to_string(i) + ": expected {\"key\":K,\"value\":V}");
    }
    try {
      out.push_back({m["key"].get<std::string>(), MetadataValue(m.contains("value") ? m["value"] : Json())});
    } catch (const BadInstruction& e) {
      throw BadInstruction("metadata " + std::to_string(i) + " (" + TypeName(m["key"]) + "): " + e.what());
    }
  }
  return out;
}

// {run} replaced by token in every string of v.
void WithRun(Json& v, const std::string& token) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    for (size_t at = s.find("{run}"); at != std::string::npos; at = s.find("{run}", at + token.size())) {
      s.replace(at, 5, token);
    }
    v = s;
  } else if (v.is_structured()) {
    for (auto& item : v) WithRun(item, token);
  }
}

// The well-known types whose JSON form is not an object of their fields: their JSON is left to
// the parser as it is.
bool SpecialJson(const Descriptor* d) {
  static const std::vector<std::string> names = {"Any", "Duration", "Timestamp", "FieldMask", "Struct", "Value",
                                                 "ListValue", "DoubleValue", "FloatValue", "Int64Value", "UInt64Value",
                                                 "Int32Value", "UInt32Value", "BoolValue", "StringValue", "BytesValue"};
  return d->file()->package() == "google.protobuf" && std::count(names.begin(), names.end(), d->name());
}

const FieldDescriptor* FieldOf(const Descriptor* d, const std::string& key) {
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i)->json_name() == key) return d->field(i);
  }
  return d->FindFieldByName(key);
}

// The "$unknown" bytes of one message of a request and of the messages it holds, by field.
struct UnknownTree {
  std::string raw;
  struct Field {
    const FieldDescriptor* fd = nullptr;
    std::shared_ptr<UnknownTree> single;
    std::map<size_t, std::shared_ptr<UnknownTree>> list;
    std::map<std::string, std::shared_ptr<UnknownTree>> entries;
  };
  std::map<int, Field> fields;
};

std::shared_ptr<UnknownTree> StripUnknown(Json& v, const Descriptor* d);

// StripUnknown for the value of field fd; fills `into` and says whether anything was found.
bool StripField(Json& v, const FieldDescriptor* fd, UnknownTree::Field& into) {
  into.fd = fd;
  if (fd->is_map()) {
    const FieldDescriptor* value = fd->message_type()->map_value();
    if (value->type() != FieldDescriptor::TYPE_MESSAGE || SpecialJson(value->message_type()) || !v.is_object()) return false;
    for (auto& [key, item] : v.items()) {
      try {
        if (auto t = StripUnknown(item, value->message_type())) into.entries[key] = t;
      } catch (const BadInstruction& e) {
        throw BadInstruction("[\"" + key + "\"]: " + e.what());
      }
    }
    return !into.entries.empty();
  }
  if (fd->type() != FieldDescriptor::TYPE_MESSAGE || SpecialJson(fd->message_type())) return false;
  if (fd->is_repeated()) {
    if (!v.is_array()) return false;
    for (size_t i = 0; i < v.size(); ++i) {
      try {
        if (auto t = StripUnknown(v[i], fd->message_type())) into.list[i] = t;
      } catch (const BadInstruction& e) {
        throw BadInstruction("[" + std::to_string(i) + "]: " + e.what());
      }
    }
    return !into.list.empty();
  }
  into.single = StripUnknown(v, fd->message_type());
  return into.single != nullptr;
}

// Takes every "$unknown" out of v, the JSON of a message of type d, and of the messages it
// holds; returns their bytes (nullptr when none). JSON of another shape is left to the parser.
std::shared_ptr<UnknownTree> StripUnknown(Json& v, const Descriptor* d) {
  if (SpecialJson(d) || !v.is_object()) return nullptr;
  std::shared_ptr<UnknownTree> tree;
  auto node = [&] {
    if (!tree) tree = std::make_shared<UnknownTree>();
    return tree;
  };
  if (v.contains("$unknown")) {
    const Json& text = v["$unknown"];
    if (!text.is_string()) {
      throw BadInstruction("$unknown in " + d->full_name() + ": must be a string of hex digits, got " + TypeName(text));
    }
    node()->raw = FromHex(text.get<std::string>(), "$unknown in " + d->full_name());
    v.erase("$unknown");
  }
  for (auto& [key, item] : v.items()) {
    const FieldDescriptor* fd = FieldOf(d, key);
    if (!fd) continue;
    UnknownTree::Field field;
    try {
      if (StripField(item, fd, field)) node()->fields[fd->number()] = field;
    } catch (const BadInstruction& e) {
      throw BadInstruction(key + ": " + e.what());
    }
  }
  return tree;
}

// Appends raw wire bytes to the unknown fields of m, as the library parses them.
void AddUnknown(Message& m, const std::string& raw) {
  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(raw.data()), static_cast<int>(raw.size()));
  if (!m.GetReflection()->MutableUnknownFields(&m)->MergeFromCodedStream(&input) || !input.ConsumedEntireMessage()) {
    throw BadInstruction("$unknown: the bytes are not protobuf wire format");
  }
}

// The map entry of map field fd of m whose key is `text` as the JSON wrote it.
Message* MapEntry(Message& m, const FieldDescriptor* fd, const std::string& text) {
  const auto* r = m.GetReflection();
  const FieldDescriptor* key = fd->message_type()->map_key();
  for (int i = 0; i < r->FieldSize(m, fd); ++i) {
    Message* entry = r->MutableRepeatedMessage(&m, fd, i);
    const auto* er = entry->GetReflection();
    std::string k;
    switch (key->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: k = er->GetString(*entry, key); break;
      case FieldDescriptor::CPPTYPE_BOOL: k = er->GetBool(*entry, key) ? "true" : "false"; break;
      case FieldDescriptor::CPPTYPE_INT32: k = std::to_string(er->GetInt32(*entry, key)); break;
      case FieldDescriptor::CPPTYPE_INT64: k = std::to_string(er->GetInt64(*entry, key)); break;
      case FieldDescriptor::CPPTYPE_UINT32: k = std::to_string(er->GetUInt32(*entry, key)); break;
      case FieldDescriptor::CPPTYPE_UINT64: k = std::to_string(er->GetUInt64(*entry, key)); break;
      default: break;
    }
    if (k == text) return entry;
  }
  return nullptr;
}

void Apply(const UnknownTree& t, Message& m) {
  if (!t.raw.empty()) AddUnknown(m, t.raw);
  const auto* r = m.GetReflection();
  for (const auto& [number, f] : t.fields) {
    const std::string name = f.fd->name();
    if (f.fd->is_map()) {
      const FieldDescriptor* value = f.fd->message_type()->map_value();
      for (const auto& [text, sub] : f.entries) {
        Message* entry = MapEntry(m, f.fd, text);
        if (!entry) throw BadInstruction(name + "[\"" + text + "\"]: no such entry after the conversion");
        Apply(*sub, *entry->GetReflection()->MutableMessage(entry, value));
      }
    } else if (f.fd->is_repeated()) {
      for (const auto& [i, sub] : f.list) {
        if (static_cast<int>(i) >= r->FieldSize(m, f.fd)) {
          throw BadInstruction(name + "[" + std::to_string(i) + "]: no such element after the conversion");
        }
        Apply(*sub, *r->MutableRepeatedMessage(&m, f.fd, static_cast<int>(i)));
      }
    } else {
      if (!r->HasField(m, f.fd)) throw BadInstruction(name + ": not set after the conversion");
      Apply(*f.single, *r->MutableMessage(&m, f.fd));
    }
  }
}

constexpr char kLoneMarker[] = "\\u0000LONE";

// The text of a request for the library's parser, its lone surrogates written back.
std::string RestoreLoneSurrogates(std::string text) {
  const std::string marker = kLoneMarker;
  for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at)) {
    // marker, 4 hex digits, then \u0000
    text.replace(at, marker.size() + 4 + 6, "\\u" + text.substr(at + marker.size(), 4));
  }
  return text;
}

// Converts the requests of one call: JsonStringToMessage, the library's own JSON parser. A
// request it refuses ends the conversion: `refused`.
void ConvertRequests(const Json& texts, const std::string& token, PlannedCall& call) {
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string where = "request " + std::to_string(i);
    Json request = texts[i];
    if (!token.empty()) WithRun(request, token);
    std::optional<uint64_t> fill;
    if (request.is_object() && request.contains("$fill_bytes")) {
      const Json& n = request["$fill_bytes"];
      // At most 4 GiB: a gRPC message's length prefix is a uint32.
      bool in_range = n.is_number_unsigned() ? n.get<uint64_t>() <= 0xffffffffULL
                                             : n.is_number_integer() && n.get<int64_t>() >= 0;
      if (!in_range) {
        throw BadInstruction(where + ": $fill_bytes must be an integer from 0 to 4294967295, got " + TypeName(n));
      }
      fill = n.get<uint64_t>();
      request.erase("$fill_bytes");
    }
    ScriptedRequest message;
    std::shared_ptr<UnknownTree> unknown;
    try {
      unknown = StripUnknown(request, message.GetDescriptor());
    } catch (const BadInstruction& e) {
      throw BadInstruction(where + ": " + e.what());
    }
    auto status = google::protobuf::util::JsonStringToMessage(RestoreLoneSurrogates(TypeName(request)), &message);
    if (!status.ok()) {
      call.refused = where + ": " + std::string(status.message());
      call.requests.clear();
      return;
    }
    try {
      if (unknown) Apply(*unknown, message);
    } catch (const BadInstruction& e) {
      throw BadInstruction(where + ": $unknown: " + e.what());
    }
    if (fill) message.mutable_values()->set_by(std::string(*fill, '\0'));
    call.requests.push_back(std::move(message));
  }
}

// Checks one call's members: method, number of requests, metadata, timeout_ms.
PlannedCall ReadCall(const Json& in) {
  PlannedCall call;
  call.method = in.contains("method") && in["method"].is_string() ? in["method"].get<std::string>() : "";
  if (std::find(kMethods.begin(), kMethods.end(), call.method) == kMethods.end()) {
    throw BadInstruction("unknown method " + (in.contains("method") ? TypeName(in["method"]) : std::string("\"\"")) +
                         " (known: Unary, ServerStream, ClientStream, BidiStream)");
  }
  const Json requests = in.contains("requests") ? in["requests"] : Json::array();
  if (!requests.is_array()) throw BadInstruction("requests must be a list, got " + TypeName(requests));
  if (!ClientStreams(call.method) && requests.size() != 1) {
    throw BadInstruction(call.method + " takes exactly one request, the instruction has " + std::to_string(requests.size()));
  }
  call.metadata = ReadMetadata(in.contains("metadata") ? in["metadata"] : Json());
  if (in.contains("timeout_ms")) {
    int64_t t = Integer(in["timeout_ms"], "timeout_ms");
    if (t < 0 || t > kMaxTimeoutMs) {
      throw BadInstruction("timeout_ms must be an integer from 0 to " + std::to_string(kMaxTimeoutMs) + ", got " + std::to_string(t));
    }
    call.timeout_ms = t;
  }
  return call;
}

ChannelOptions ReadChannel(const Json& c) {
  if (!c.is_object()) throw BadInstruction("channel must be an object, got " + TypeName(c));
  ChannelOptions ch;
  for (auto& [key, v] : c.items()) {
    if (v.is_null()) throw BadInstruction("channel." + key + " must not be null");
    std::string what = "channel." + key;
    auto length = [&] {
      int64_t n = Integer(v, what);
      if (n < 0) throw BadInstruction(what + " must be a non-negative integer, got " + std::to_string(n));
      return n;
    };
    auto nonEmpty = [&] {
      std::string s = Text(v, what);
      if (s.empty()) throw BadInstruction(what + " must be a non-empty string");
      return s;
    };
    if (key == "max_receive_message_length") ch.max_receive_message_length = length();
    else if (key == "max_send_message_length") ch.max_send_message_length = length();
    else if (key == "keepalive_time_ms") ch.keepalive_time_ms = length();
    else if (key == "keepalive_timeout_ms") ch.keepalive_timeout_ms = length();
    else if (key == "keepalive_permit_without_calls") {
      if (!v.is_boolean()) throw BadInstruction(what + " must be a boolean, got " + TypeName(v));
      ch.keepalive_permit_without_calls = v.get<bool>();
    } else if (key == "compression") {
      std::string s = Text(v, what);
      if (s != "identity" && s != "gzip" && s != "deflate") {
        throw BadInstruction("channel.compression must be one of identity, gzip, deflate, got " + TypeName(v));
      }
      ch.compression = s;
    } else if (key == "lb_policy") {
      std::string s = Text(v, what);
      if (s != "pick_first" && s != "round_robin") {
        throw BadInstruction("channel.lb_policy must be one of pick_first, round_robin, got " + TypeName(v));
      }
      ch.lb_policy = s;
    } else if (key == "server_name") ch.server_name = nonEmpty();
    else if (key == "target") ch.target = nonEmpty();
    else if (key == "authority") ch.authority = nonEmpty();
    else if (key == "addresses") {
      if (!v.is_array() || v.empty()) throw BadInstruction("channel.addresses must be a non-empty list of host:port addresses");
      std::vector<std::string> list;
      for (auto& a : v) {
        if (!a.is_string() || a.get<std::string>().empty()) {
          throw BadInstruction("channel.addresses must be a non-empty list of host:port addresses");
        }
        list.push_back(a.get<std::string>());
      }
      ch.addresses = list;
    } else {
      throw BadInstruction("channel: unknown member \"" + key + "\"");
    }
  }
  if (ch.addresses && ch.target) throw BadInstruction("channel.addresses does not go with channel.target: give one of them");
  return ch;
}

// scripted-lenient: "cleans" what the library would refuse (see the contract).
void Lenient(Json& in) {
  in.erase("compression");
  if (in.contains("channel") && in["channel"].is_object()) in["channel"].erase("compression");
  if (in.contains("requests") && in["requests"].is_array()) {
    for (auto& r : in["requests"]) {
      if (r.is_object()) r.erase("values");
    }
  }
  if (!in.contains("metadata") || !in["metadata"].is_array()) return;
  Json kept = Json::array();
  for (auto m : in["metadata"]) {
    if (!m.is_object() || !m.contains("key") || !m["key"].is_string()) {
      kept.push_back(m);
      continue;
    }
    std::string key = m["key"].get<std::string>();
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    bool legal = !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
      return std::isdigit(c) || (c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.';
    });
    if (!legal) continue;
    bool binary = key.size() > 4 && key.compare(key.size() - 4, 4, "-bin") == 0;
    if (!binary && m.contains("value") && m["value"].is_string()) {
      std::string printable;
      for (unsigned char c : m["value"].get<std::string>()) {
        if (c >= 0x20 && c <= 0x7e) printable += static_cast<char>(c);
      }
      m["key"] = key;
      m["value"] = printable;
    }
    kept.push_back(m);
  }
  in["metadata"] = kept;
}

}  // namespace

std::string HideLoneSurrogates(const std::string& text) {
  auto hex4 = [&](size_t at, unsigned* value) {
    if (at + 4 > text.size()) return false;
    *value = 0;
    for (size_t i = at; i < at + 4; ++i) {
      char c = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
      if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
      *value = *value * 16 + (std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : c - 'a' + 10);
    }
    return true;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    unsigned unit = 0, next = 0;
    if (text[i + 1] == 'u' && hex4(i + 2, &unit) && unit >= 0xd800 && unit <= 0xdfff) {
      bool paired = unit < 0xdc00 && i + 12 <= text.size() && text.compare(i + 6, 2, "\\u") == 0 &&
                    hex4(i + 8, &next) && next >= 0xdc00 && next <= 0xdfff;
      if (paired) {
        out += text.substr(i, 12);
        i += 11;
      } else {
        out += std::string(kLoneMarker) + text.substr(i + 2, 4) + "\\u0000";
        i += 5;
      }
      continue;
    }
    out += text.substr(i, 2);
    ++i;
  }
  return out;
}

Plan ParseInstruction(const Json& raw, bool lenient, const std::string& token) {
  if (!raw.is_object()) throw BadInstruction("malformed instruction: expected an object, got " + TypeName(raw));
  Json in = raw;
  if (in.contains("compression") && !in["compression"].is_string()) {
    throw BadInstruction("compression must be a string, got " + TypeName(in["compression"]));
  }
  if (lenient) Lenient(in);
  Plan plan;
  plan.call = ReadCall(in);
  if (in.contains("cancel_after_responses")) {
    int64_t n = Integer(in["cancel_after_responses"], "cancel_after_responses");
    if (n < 0) throw BadInstruction("cancel_after_responses must not be negative, got " + std::to_string(n));
    plan.call.cancel_after = n;
  }
  if (in.contains("concurrent")) {
    int64_t n = Integer(in["concurrent"], "concurrent");
    if (n < 1 || n > 10000) throw BadInstruction("concurrent must be an integer from 1 on, got " + std::to_string(n));
    plan.concurrent = static_cast<int>(n);
  }
  if (in.contains("compression")) plan.call.compression = in["compression"].get<std::string>();
  if (in.contains("channel")) plan.channel = ReadChannel(in["channel"]);
  Json followups = in.contains("followups") ? in["followups"] : Json();
  if (!followups.is_null()) {
    if (!followups.is_array()) throw BadInstruction("followups must be a list, got " + TypeName(followups));
    plan.has_followups = true;
    for (size_t i = 0; i < followups.size(); ++i) {
      std::string where = "followups[" + std::to_string(i) + "]";
      if (!followups[i].is_object()) throw BadInstruction(where + " must be an object, got " + TypeName(followups[i]));
      try {
        PlannedCall f = ReadCall(followups[i]);
        if (followups[i].contains("after_ms")) {
          f.after_ms = Integer(followups[i]["after_ms"], "after_ms");
          if (f.after_ms < 0 || f.after_ms > kMaxTimeoutMs) {
            throw BadInstruction("after_ms must be an integer from 0 to " + std::to_string(kMaxTimeoutMs));
          }
        }
        plan.followups.push_back(std::move(f));
      } catch (const BadInstruction& e) {
        throw BadInstruction(where + ": " + e.what());
      }
    }
  }
  ConvertRequests(in.contains("requests") ? in["requests"] : Json::array(), token, plan.call);
  for (size_t i = 0; i < plan.followups.size(); ++i) {
    try {
      ConvertRequests(followups[i].contains("requests") ? followups[i]["requests"] : Json::array(), token, plan.followups[i]);
    } catch (const BadInstruction& e) {
      throw BadInstruction("followups[" + std::to_string(i) + "]: " + e.what());
    }
  }
  return plan;
}

}  // namespace interop::scripted
