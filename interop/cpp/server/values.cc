#include "values.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace interop {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::vector<const FieldDescriptor*> Present(const Message& m) {
  std::vector<const FieldDescriptor*> fields;
  m.GetReflection()->ListFields(m, &fields);
  return fields;
}

// Calls visit on m and every message inside it: nested, list elements, map values.
void Walk(Message* m, const std::function<void(Message*)>& visit) {
  visit(m);
  const Reflection* r = m->GetReflection();
  for (const FieldDescriptor* fd : Present(*m)) {
    if (fd->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (fd->is_map()) {
      const FieldDescriptor* value = fd->message_type()->map_value();
      if (value->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      for (int i = 0; i < r->FieldSize(*m, fd); ++i) {
        Message* entry = r->MutableRepeatedMessage(m, fd, i);
        Walk(entry->GetReflection()->MutableMessage(entry, value), visit);
      }
    } else if (fd->is_repeated()) {
      for (int i = 0; i < r->FieldSize(*m, fd); ++i) Walk(r->MutableRepeatedMessage(m, fd, i), visit);
    } else {
      Walk(r->MutableMessage(m, fd), visit);
    }
  }
}

// One scalar: where it is (a singular field, an element of a list, or a field of a map entry).
struct Slot {
  Message* m;
  const FieldDescriptor* fd;
  int index;  // -1: singular

  const Reflection* r() const { return m->GetReflection(); }
  int64_t GetInt64() const { return index < 0 ? r()->GetInt64(*m, fd) : r()->GetRepeatedInt64(*m, fd, index); }
  void SetInt64(int64_t v) const { index < 0 ? r()->SetInt64(m, fd, v) : r()->SetRepeatedInt64(m, fd, index, v); }
  uint64_t GetUInt64() const { return index < 0 ? r()->GetUInt64(*m, fd) : r()->GetRepeatedUInt64(*m, fd, index); }
  void SetUInt64(uint64_t v) const { index < 0 ? r()->SetUInt64(m, fd, v) : r()->SetRepeatedUInt64(m, fd, index, v); }
  int32_t GetInt32() const { return index < 0 ? r()->GetInt32(*m, fd) : r()->GetRepeatedInt32(*m, fd, index); }
  void SetInt32(int32_t v) const { index < 0 ? r()->SetInt32(m, fd, v) : r()->SetRepeatedInt32(m, fd, index, v); }
  uint32_t GetUInt32() const { return index < 0 ? r()->GetUInt32(*m, fd) : r()->GetRepeatedUInt32(*m, fd, index); }
  void SetUInt32(uint32_t v) const { index < 0 ? r()->SetUInt32(m, fd, v) : r()->SetRepeatedUInt32(m, fd, index, v); }
  double GetDouble() const { return index < 0 ? r()->GetDouble(*m, fd) : r()->GetRepeatedDouble(*m, fd, index); }
  void SetDouble(double v) const { index < 0 ? r()->SetDouble(m, fd, v) : r()->SetRepeatedDouble(m, fd, index, v); }
  float GetFloat() const { return index < 0 ? r()->GetFloat(*m, fd) : r()->GetRepeatedFloat(*m, fd, index); }
  void SetFloat(float v) const { index < 0 ? r()->SetFloat(m, fd, v) : r()->SetRepeatedFloat(m, fd, index, v); }
  bool GetBool() const { return index < 0 ? r()->GetBool(*m, fd) : r()->GetRepeatedBool(*m, fd, index); }
  void SetBool(bool v) const { index < 0 ? r()->SetBool(m, fd, v) : r()->SetRepeatedBool(m, fd, index, v); }
  std::string GetString() const { return index < 0 ? r()->GetString(*m, fd) : r()->GetRepeatedString(*m, fd, index); }
  void SetString(std::string v) const {
    index < 0 ? r()->SetString(m, fd, std::move(v)) : r()->SetRepeatedString(m, fd, index, std::move(v));
  }
  int GetEnum() const { return index < 0 ? r()->GetEnumValue(*m, fd) : r()->GetRepeatedEnumValue(*m, fd, index); }
  void SetEnum(int v) const { index < 0 ? r()->SetEnumValue(m, fd, v) : r()->SetRepeatedEnumValue(m, fd, index, v); }
};

// Calls f on every present scalar of m itself (singular, list elements, map values).
void Scalars(Message* m, const std::function<void(const Slot&)>& f) {
  const Reflection* r = m->GetReflection();
  for (const FieldDescriptor* fd : Present(*m)) {
    if (fd->is_map()) {
      const FieldDescriptor* value = fd->message_type()->map_value();
      if (value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) continue;
      for (int i = 0; i < r->FieldSize(*m, fd); ++i) f(Slot{r->MutableRepeatedMessage(m, fd, i), value, -1});
    } else if (fd->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    } else if (fd->is_repeated()) {
      for (int i = 0; i < r->FieldSize(*m, fd); ++i) f(Slot{m, fd, i});
    } else {
      f(Slot{m, fd, -1});
    }
  }
}

// Calls f on the key of every map entry of m.
void MapKeys(Message* m, const std::function<void(const Slot&)>& f) {
  const Reflection* r = m->GetReflection();
  for (const FieldDescriptor* fd : Present(*m)) {
    if (!fd->is_map()) continue;
    const FieldDescriptor* key = fd->message_type()->map_key();
    for (int i = 0; i < r->FieldSize(*m, fd); ++i) f(Slot{r->MutableRepeatedMessage(m, fd, i), key, -1});
  }
}

bool Is64Signed(const FieldDescriptor* fd) { return fd->cpp_type() == FieldDescriptor::CPPTYPE_INT64; }
bool Is64Unsigned(const FieldDescriptor* fd) { return fd->cpp_type() == FieldDescriptor::CPPTYPE_UINT64; }

// scripted-int64-double: every 64-bit integer (keys too) through a double, saturating.
void Int64ThroughDouble(const Slot& s) {
  if (Is64Signed(s.fd)) {
    double d = static_cast<double>(s.GetInt64());
    s.SetInt64(d >= 9223372036854775808.0 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(d));
  } else if (Is64Unsigned(s.fd)) {
    double d = static_cast<double>(s.GetUInt64());
    s.SetUInt64(d >= 18446744073709551616.0 ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(d));
  }
}

void EnumShifted(const Slot& s) {
  if (s.fd->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) s.SetEnum(s.GetEnum() + 1);
}

void MapKeyOff(const Slot& s) {
  switch (s.fd->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: s.SetInt32(static_cast<int32_t>(static_cast<uint32_t>(s.GetInt32()) + 1)); break;
    case FieldDescriptor::CPPTYPE_INT64: s.SetInt64(static_cast<int64_t>(static_cast<uint64_t>(s.GetInt64()) + 1)); break;
    case FieldDescriptor::CPPTYPE_UINT32: s.SetUInt32(s.GetUInt32() + 1); break;
    case FieldDescriptor::CPPTYPE_UINT64: s.SetUInt64(s.GetUInt64() + 1); break;
    case FieldDescriptor::CPPTYPE_BOOL: s.SetBool(!s.GetBool()); break;
    case FieldDescriptor::CPPTYPE_STRING: s.SetString(s.GetString() + "~"); break;
    default: break;
  }
}

bool Special(double d, double smallest_normal) {
  return std::isnan(d) || std::isinf(d) || (d == 0 && std::signbit(d)) || (d != 0 && std::fabs(d) < smallest_normal);
}

void FloatsFlushed(const Slot& s) {
  if (s.fd->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
    double d = s.GetDouble();
    s.SetDouble(Special(d, 0x1p-1022) ? 0 : static_cast<double>(static_cast<float>(d)));
  } else if (s.fd->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
    if (Special(s.GetFloat(), 0x1p-126)) s.SetFloat(0);
  }
}

void BytesTruncated(const Slot& s) {
  if (s.fd->type() != FieldDescriptor::TYPE_BYTES) return;
  std::string b = s.GetString();
  if (!b.empty()) {
    b.pop_back();
    s.SetString(std::move(b));
  }
}

void StringsTruncated(const Slot& s) {
  if (s.fd->type() != FieldDescriptor::TYPE_STRING) return;
  std::string str = s.GetString();
  if (str.empty()) return;
  size_t cut = str.size() - 1;
  while (cut > 0 && (static_cast<unsigned char>(str[cut]) & 0xC0) == 0x80) --cut;  // the last code point
  str.resize(cut);
  s.SetString(std::move(str));
}

// scripted-presence-lost: optional fields and oneof members set to their zero value (or an
// empty message) are cleared.
void PresenceLost(Message* m) {
  const Reflection* r = m->GetReflection();
  for (const FieldDescriptor* fd : Present(*m)) {
    if (fd->containing_oneof() == nullptr || fd->is_repeated()) continue;
    bool zero = false;
    switch (fd->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE: zero = Present(r->GetMessage(*m, fd)).empty(); break;
      case FieldDescriptor::CPPTYPE_INT32: zero = r->GetInt32(*m, fd) == 0; break;
      case FieldDescriptor::CPPTYPE_INT64: zero = r->GetInt64(*m, fd) == 0; break;
      case FieldDescriptor::CPPTYPE_UINT32: zero = r->GetUInt32(*m, fd) == 0; break;
      case FieldDescriptor::CPPTYPE_UINT64: zero = r->GetUInt64(*m, fd) == 0; break;
      // Go's Value.Equal compares floats by value: -0 equals 0, NaN nothing.
      case FieldDescriptor::CPPTYPE_DOUBLE: zero = r->GetDouble(*m, fd) == 0; break;
      case FieldDescriptor::CPPTYPE_FLOAT: zero = r->GetFloat(*m, fd) == 0; break;
      case FieldDescriptor::CPPTYPE_BOOL: zero = !r->GetBool(*m, fd); break;
      case FieldDescriptor::CPPTYPE_ENUM: zero = r->GetEnumValue(*m, fd) == 0; break;
      case FieldDescriptor::CPPTYPE_STRING: zero = r->GetString(*m, fd).empty(); break;
    }
    if (zero) r->ClearField(m, fd);
  }
}

void RepeatedTruncated(Message* m) {
  const Reflection* r = m->GetReflection();
  for (const FieldDescriptor* fd : Present(*m)) {
    if (fd->is_repeated() && !fd->is_map()) r->RemoveLast(m, fd);
  }
}

}  // namespace

scripted::Values FaultyValues(const scripted::Values& values, const Faults& faults) {
  scripted::Values out = values;
  auto scalars = [&](void (*f)(const Slot&)) { Walk(&out, [f](Message* m) { Scalars(m, f); }); };
  auto keys = [&](void (*f)(const Slot&)) { Walk(&out, [f](Message* m) { MapKeys(m, f); }); };
  if (faults.Has("scripted-int64-double")) {
    scalars(Int64ThroughDouble);
    keys(Int64ThroughDouble);
  }
  if (faults.Has("scripted-enum-shifted")) scalars(EnumShifted);
  if (faults.Has("scripted-map-keys-off")) keys(MapKeyOff);
  if (faults.Has("scripted-floats-flushed")) scalars(FloatsFlushed);
  if (faults.Has("scripted-bytes-truncated")) scalars(BytesTruncated);
  if (faults.Has("scripted-strings-truncated")) scalars(StringsTruncated);
  if (faults.Has("scripted-presence-lost")) Walk(&out, PresenceLost);
  if (faults.Has("scripted-repeated-truncated")) Walk(&out, RepeatedTruncated);
  if (faults.Has("scripted-unknown-dropped")) out.DiscardUnknownFields();
  return out;
}

}  // namespace interop
