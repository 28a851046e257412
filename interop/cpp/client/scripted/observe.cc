#include "scripted/observe.h"

#include <openssl/sha.h>

#include <cmath>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

namespace interop::scripted {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The longest bytes value reported in hex; a longer one is reported by its digest, so that a
// 4 MiB message stays a short line.
constexpr size_t kMaxHexBytes = 65536;

Json BytesValue(const std::string& b) {
  if (b.size() <= kMaxHexBytes) return BytesOf(b);
  unsigned char sum[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), sum);
  Json out;
  out["$sha256"] = Hex(std::string(reinterpret_cast<char*>(sum), sizeof sum));
  out["$length"] = b.size();
  return out;
}

Json Float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0 && std::signbit(d)) return "-0";
  return d;
}

// One value of field fd: repeated ones at index i (i < 0: singular).
Json Single(const Message& m, const FieldDescriptor* fd, int i) {
  const Reflection* r = m.GetReflection();
  bool rep = i >= 0;
  switch (fd->cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return EncodeMessage(rep ? r->GetRepeatedMessage(m, fd, i) : r->GetMessage(m, fd));
    case FieldDescriptor::CPPTYPE_ENUM:
      return rep ? r->GetRepeatedEnumValue(m, fd, i) : r->GetEnumValue(m, fd);
    case FieldDescriptor::CPPTYPE_INT32:
      return std::to_string(rep ? r->GetRepeatedInt32(m, fd, i) : r->GetInt32(m, fd));
    case FieldDescriptor::CPPTYPE_INT64:
      return std::to_string(rep ? r->GetRepeatedInt64(m, fd, i) : r->GetInt64(m, fd));
    case FieldDescriptor::CPPTYPE_UINT32:
      return std::to_string(rep ? r->GetRepeatedUInt32(m, fd, i) : r->GetUInt32(m, fd));
    case FieldDescriptor::CPPTYPE_UINT64:
      return std::to_string(rep ? r->GetRepeatedUInt64(m, fd, i) : r->GetUInt64(m, fd));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return Float(rep ? r->GetRepeatedDouble(m, fd, i) : r->GetDouble(m, fd));
    case FieldDescriptor::CPPTYPE_FLOAT:  // a float32 reported as the double it widens to
      return Float(static_cast<double>(rep ? r->GetRepeatedFloat(m, fd, i) : r->GetFloat(m, fd)));
    case FieldDescriptor::CPPTYPE_BOOL:
      return rep ? r->GetRepeatedBool(m, fd, i) : r->GetBool(m, fd);
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, fd, i) : r->GetString(m, fd);
      if (fd->type() == FieldDescriptor::TYPE_BYTES) return BytesValue(s);
      return s;
    }
  }
  return nullptr;
}

// A map key in text: integers in decimal, bools true/false, strings as they are.
std::string KeyText(const Json& key) {
  if (key.is_string()) return key.get<std::string>();
  if (key.is_boolean()) return key.get<bool>() ? "true" : "false";
  return key.dump();
}

Json Field(const Message& m, const FieldDescriptor* fd) {
  const Reflection* r = m.GetReflection();
  if (fd->is_map()) {
    Json out = Json::object();
    const FieldDescriptor* key = fd->message_type()->map_key();
    const FieldDescriptor* value = fd->message_type()->map_value();
    for (int i = 0; i < r->FieldSize(m, fd); ++i) {
      const Message& entry = r->GetRepeatedMessage(m, fd, i);
      out[KeyText(Single(entry, key, -1))] = Single(entry, value, -1);
    }
    return out;
  }
  if (fd->is_repeated()) {
    Json out = Json::array();
    for (int i = 0; i < r->FieldSize(m, fd); ++i) out.push_back(Single(m, fd, i));
    return out;
  }
  return Single(m, fd, -1);
}

// An Any unpacked through the generated pool, or its bytes when the process cannot.
Json EncodeAny(const google::protobuf::Any& any) {
  const std::string& url = any.type_url();
  std::string name = url.substr(url.rfind('/') + 1);
  const auto* desc = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(name);
  if (desc) {
    std::unique_ptr<Message> inner(google::protobuf::MessageFactory::generated_factory()->GetPrototype(desc)->New());
    if (inner->ParseFromString(any.value())) {
      Json out;
      out["@type"] = url;
      Json fields = EncodeMessage(*inner);
      for (auto& [k, v] : fields.items()) out[k] = v;
      return out;
    }
  }
  Json out;
  out["@type"] = url;
  out["$value"] = BytesOf(any.value());
  return out;
}

}  // namespace

std::string Hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

Json BytesOf(const std::string& bytes) {
  Json out;
  out["$bytes"] = Hex(bytes);
  return out;
}

Json EncodeMessage(const Message& m) {
  if (m.GetDescriptor()->full_name() == "google.protobuf.Any") {
    google::protobuf::Any any;
    any.CopyFrom(m);
    return EncodeAny(any);
  }
  Json out = Json::object();
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const FieldDescriptor* fd : fields) out[fd->name()] = Field(m, fd);
  const auto& unknown = r->GetUnknownFields(m);
  if (!unknown.empty()) {
    std::string raw;
    unknown.SerializeToString(&raw);
    out["$unknown"] = Hex(raw);
  }
  return out;
}

Json EncodeMetadata(const std::multimap<grpc::string_ref, grpc::string_ref>& md, std::initializer_list<const char*> leave) {
  Json out = Json::array();
  for (const auto& [k, v] : md) {
    std::string key(k.data(), k.size()), value(v.data(), v.size());
    if (std::any_of(leave.begin(), leave.end(), [&](const char* l) { return key == l; })) continue;
    bool binary = key.size() > 4 && key.compare(key.size() - 4, 4, "-bin") == 0;
    out.push_back(Json::array({key, binary ? BytesOf(value) : Json(value)}));
  }
  return out;
}

}  // namespace interop::scripted
