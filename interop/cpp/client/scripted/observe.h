// The value encoding of docs/peer-contract.md ("Value encoding of a message"): what gRPC C++
// gave the application, never re-encoded to a canonical form.
#pragma once

#include <map>
#include <string>

#include <google/protobuf/message.h>
#include <grpcpp/support/string_ref.h>

#include "result.h"

namespace interop::scripted {

// Lowercase hex of bytes.
std::string Hex(const std::string& bytes);

// {"$bytes":"hex"}.
Json BytesOf(const std::string& bytes);

// A message: one member per field reflection lists as present (ListFields), keyed by the
// field's .proto name; "$unknown" (hex) when the library kept unknown fields. An Any is
// unpacked as {"@type":URL, …fields} when the process knows its type.
Json EncodeMessage(const google::protobuf::Message& m);

// Metadata as [[key, value], …] in the library's order (its multimap: keys sorted, each key's
// values in order); a -bin key's values as {"$bytes":hex}. Keys in `leave` are left out.
Json EncodeMetadata(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                    std::initializer_list<const char*> leave = {});

}  // namespace interop::scripted
