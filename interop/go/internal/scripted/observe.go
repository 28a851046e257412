package scripted

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// The value encoding of docs/peer-contract.md ("Value encoding of a message"): what grpc-go
// gave the application, never re-encoded to a canonical form. A grpc-go application gets
// generated Go structs; protoreflect shows them as they are: which fields are present (Range),
// and each value in its Go type (int64, uint64, float64 for a float32 widened exactly, ...).

// Bytes is how a byte string is reported: {"$bytes":"lowercase hex"}.
type Bytes struct {
	Hex string `json:"$bytes"`
}

func bytesOf(b []byte) Bytes { return Bytes{hex.EncodeToString(b)} }

// maxHexBytes is the longest bytes value of a message reported in hex; a longer one is reported
// by its digest (LongBytes), so that a 4 MiB message stays a short line.
const maxHexBytes = 65_536

// LongBytes is how a bytes value of a message longer than maxHexBytes is reported:
// {"$sha256":"lowercase hex of its SHA-256","$length":N}.
type LongBytes struct {
	SHA256 string `json:"$sha256"`
	Length int    `json:"$length"`
}

// bytesValue is a bytes value of a message: hex, or past maxHexBytes its SHA-256 and length.
func bytesValue(b []byte) any {
	if len(b) > maxHexBytes {
		sum := sha256.Sum256(b)
		return LongBytes{SHA256: hex.EncodeToString(sum[:]), Length: len(b)}
	}
	return bytesOf(b)
}

// EncodeMessage encodes m: one member per present field (protoreflect's Range: fields with
// implicit presence at their zero value are not present), keyed by the field's .proto name, and
// "$unknown" (lowercase hex) when grpc-go kept unknown fields for m. Every message inside is
// encoded the same way.
// A google.protobuf.Any is reported unpacked, as {"@type":URL, …fields}, when the process knows
// its type (anypb.UnmarshalNew: the global registry), else as {"@type":URL,"$value":{"$bytes":hex}}.
func EncodeMessage(m protoreflect.Message) map[string]any {
	if a, ok := m.Interface().(*anypb.Any); ok {
		return encodeAny(a)
	}
	out := map[string]any{}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		out[string(fd.Name())] = encodeField(fd, v)
		return true
	})
	// The unknown fields grpc-go kept for this message (the wire bytes of the fields its schema
	// does not declare, as protobuf-go stores them): "$unknown": lowercase hex.
	if unknown := m.GetUnknown(); len(unknown) > 0 {
		out[unknownMember] = hex.EncodeToString(unknown)
	}
	return out
}

func encodeAny(a *anypb.Any) map[string]any {
	inner, err := a.UnmarshalNew()
	if err != nil {
		return map[string]any{"@type": a.GetTypeUrl(), "$value": bytesOf(a.GetValue())}
	}
	return withType(a.GetTypeUrl(), EncodeMessage(inner.ProtoReflect()))
}

// withType adds "@type" to an encoded message.
func withType(url string, fields map[string]any) map[string]any {
	fields["@type"] = url
	return fields
}

func encodeField(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch {
	case fd.IsMap():
		out := map[string]any{}
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			out[mapKeyText(k)] = encodeSingle(fd.MapValue(), mv)
			return true
		})
		return out
	case fd.IsList():
		l := v.List()
		out := make([]any, l.Len())
		for i := range out {
			out[i] = encodeSingle(fd, l.Get(i))
		}
		return out
	}
	return encodeSingle(fd, v)
}

// mapKeyText is a map key in text: integers in decimal, bools true/false, strings as they are.
func mapKeyText(k protoreflect.MapKey) string {
	switch v := k.Interface().(type) {
	case bool:
		return strconv.FormatBool(v)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	}
	return k.String()
}

// encodeSingle encodes one value of fd's kind: Go integers as decimal strings, enums as their
// number (a JSON number: grpc-go enums are int32 types, the contract's "the number"), floats as
// JSON numbers or "NaN"/"Infinity"/"-Infinity"/"-0", bytes as {"$bytes":hex} (past 64 KiB,
// {"$sha256":hex,"$length":N}).
func encodeSingle(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return EncodeMessage(v.Message())
	case protoreflect.EnumKind:
		return int32(v.Enum())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return encodeFloat(v.Float()) // a float32 field gives float64(its value), exactly
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return bytesValue(v.Bytes())
	}
	return v.Interface()
}

func encodeFloat(d float64) any {
	switch {
	case math.IsNaN(d):
		return "NaN"
	case math.IsInf(d, 1):
		return "Infinity"
	case math.IsInf(d, -1):
		return "-Infinity"
	case d == 0 && math.Signbit(d):
		return "-0"
	}
	return d
}

// EncodeMetadata reports metadata as [[key, value], …]. grpc-go gives a map (metadata.MD), which
// has no order between keys: keys are sorted, each key's values stay in the library's order. A
// "-bin" key's values are bytes (grpc-go decoded them from base64): {"$bytes":hex}. Keys in
// leave are left out. nil (the library gave no metadata) is reported as nil.
func EncodeMetadata(md metadata.MD, leave ...string) []any {
	if md == nil {
		return nil
	}
	out := []any{}
	for _, k := range slices.Sorted(maps.Keys(md)) {
		if slices.Contains(leave, k) {
			continue
		}
		for _, v := range md[k] {
			if strings.HasSuffix(k, "-bin") {
				out = append(out, []any{k, bytesOf([]byte(v))})
			} else {
				out = append(out, []any{k, v})
			}
		}
	}
	return out
}
