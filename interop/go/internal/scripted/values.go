package scripted

import (
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "interopmatrix/gen/scripted"
	"interopmatrix/internal/faults"
)

// The value faults of the contract break what a reply carries. Each one is generic: it walks
// the reply's message through protoreflect (every message, recursively: singular message fields,
// repeated elements, map values, oneof members) and transforms the fields of the kinds it is
// about, whatever the message type. They never touch RequestInfo.

// valueFaults are the value faults in the contract's order, each a transformation of one
// message's own fields (walk applies it to every message of the reply).
var valueFaults = []struct {
	name  faults.Name
	apply func(protoreflect.Message)
}{
	{faults.ScriptedInt64Double, int64ThroughDouble},
	{faults.ScriptedEnumShifted, enumShifted},
	{faults.ScriptedMapKeysOff, mapKeysOff},
	{faults.ScriptedFloatsFlushed, floatsFlushed},
	{faults.ScriptedBytesTruncated, bytesTruncated},
	{faults.ScriptedStringsTruncated, stringsTruncated},
	{faults.ScriptedPresenceLost, presenceLost},
	{faults.ScriptedRepeatedTruncated, repeatedTruncated},
}

// faultyValues returns the values a reply sends under the value faults of f: v itself when no
// value fault is on, else a transformed copy (v is the script's, and stays intact). v is the
// script's replies[j].values as grpc-go decoded it, unknown fields included (proto.Clone keeps
// them); scripted-unknown-dropped discards them, in every message of the reply
// (discardUnknown), after the other faults.
func faultyValues(v *pb.Values, f faults.Set) *pb.Values {
	if v == nil {
		return nil
	}
	out := v
	for _, vf := range valueFaults {
		if f.Has(vf.name) {
			if out == v {
				out = proto.Clone(v).(*pb.Values)
			}
			walk(out.ProtoReflect(), vf.apply)
		}
	}
	if f.Has(faults.ScriptedUnknownDropped) {
		if out == v {
			out = proto.Clone(v).(*pb.Values)
		}
		discardUnknown(out)
	}
	return out
}

// discardUnknown is scripted-unknown-dropped: it clears the unknown fields of m and of every
// message m holds (singular, repeated, map values, oneof members). It is what the deprecated
// github.com/golang/protobuf's proto.DiscardUnknown does (google.golang.org/protobuf has no
// such function, and this module does not depend on the old one): protoreflect.Message.SetUnknown(nil),
// recursively. Like it, it does not look inside the bytes of an Any.
func discardUnknown(m proto.Message) {
	walk(m.ProtoReflect(), func(m protoreflect.Message) {
		if len(m.GetUnknown()) > 0 {
			m.SetUnknown(nil)
		}
	})
}

// walk applies visit to m, then to every message m holds (after visit changed m).
func walk(m protoreflect.Message, visit func(protoreflect.Message)) {
	visit(m)
	for _, fd := range presentFields(m) {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				continue
			}
			m.Get(fd).Map().Range(func(_ protoreflect.MapKey, v protoreflect.Value) bool {
				walk(v.Message(), visit)
				return true
			})
		case fd.IsList():
			if fd.Message() == nil {
				continue
			}
			l := m.Get(fd).List()
			for i := 0; i < l.Len(); i++ {
				walk(l.Get(i).Message(), visit)
			}
		case fd.Message() != nil:
			walk(m.Get(fd).Message(), visit)
		}
	}
}

// presentFields lists the fields m has (protoreflect's Range), so that they can be changed
// after the iteration.
func presentFields(m protoreflect.Message) []protoreflect.FieldDescriptor {
	var fields []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		fields = append(fields, fd)
		return true
	})
	return fields
}

// scalars replaces every non-message value of m's own fields (singular, repeated elements, map
// values; not map keys) by f(fd, v), fd describing the value (a map's value field for maps).
func scalars(m protoreflect.Message, f func(fd protoreflect.FieldDescriptor, v protoreflect.Value) protoreflect.Value) {
	for _, fd := range presentFields(m) {
		switch {
		case fd.IsMap():
			vfd := fd.MapValue()
			if vfd.Message() != nil {
				continue
			}
			mp := m.Mutable(fd).Map()
			for _, k := range mapKeys(mp) {
				mp.Set(k, f(vfd, mp.Get(k)))
			}
		case fd.IsList():
			if fd.Message() != nil {
				continue
			}
			l := m.Mutable(fd).List()
			for i := 0; i < l.Len(); i++ {
				l.Set(i, f(fd, l.Get(i)))
			}
		case fd.Message() == nil:
			m.Set(fd, f(fd, m.Get(fd)))
		}
	}
}

// rekey replaces every key k of m's own maps by f(keyField, k) (the values stay with their keys).
func rekey(m protoreflect.Message, f func(kfd protoreflect.FieldDescriptor, k protoreflect.Value) protoreflect.Value) {
	for _, fd := range presentFields(m) {
		if !fd.IsMap() {
			continue
		}
		mp := m.Mutable(fd).Map()
		type entry struct {
			k protoreflect.MapKey
			v protoreflect.Value
		}
		var entries []entry
		for _, k := range mapKeys(mp) {
			entries = append(entries, entry{k, mp.Get(k)})
			mp.Clear(k)
		}
		for _, e := range entries {
			mp.Set(f(fd.MapKey(), e.k.Value()).MapKey(), e.v)
		}
	}
}

func mapKeys(mp protoreflect.Map) []protoreflect.MapKey {
	var keys []protoreflect.MapKey
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	return keys
}

// int64ThroughDouble: scripted-int64-double. Every 64-bit integer (values and map keys) goes
// through a float64 and back, saturating at the type's bounds as a float64 that overflows them
// would (2^64 for the largest uint64).
func int64ThroughDouble(m protoreflect.Message) {
	f := func(fd protoreflect.FieldDescriptor, v protoreflect.Value) protoreflect.Value {
		switch fd.Kind() {
		case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
			d := float64(v.Int())
			if d >= math.MaxInt64 { // 2^63: out of range
				return protoreflect.ValueOfInt64(math.MaxInt64)
			}
			return protoreflect.ValueOfInt64(int64(d))
		case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			d := float64(v.Uint())
			if d >= math.MaxUint64 { // 2^64: out of range
				return protoreflect.ValueOfUint64(math.MaxUint64)
			}
			return protoreflect.ValueOfUint64(uint64(d))
		}
		return v
	}
	scalars(m, f)
	rekey(m, f)
}

// enumShifted: scripted-enum-shifted. Every enum value is sent as its number + 1.
func enumShifted(m protoreflect.Message) {
	scalars(m, func(fd protoreflect.FieldDescriptor, v protoreflect.Value) protoreflect.Value {
		if fd.Kind() == protoreflect.EnumKind {
			return protoreflect.ValueOfEnum(v.Enum() + 1)
		}
		return v
	})
}

// mapKeysOff: scripted-map-keys-off. Integer keys + 1, bool keys negated, string keys + "~".
func mapKeysOff(m protoreflect.Message) {
	rekey(m, func(kfd protoreflect.FieldDescriptor, k protoreflect.Value) protoreflect.Value {
		switch kfd.Kind() {
		case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
			return protoreflect.ValueOfInt32(int32(k.Int()) + 1)
		case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
			return protoreflect.ValueOfInt64(k.Int() + 1)
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
			return protoreflect.ValueOfUint32(uint32(k.Uint()) + 1)
		case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			return protoreflect.ValueOfUint64(k.Uint() + 1)
		case protoreflect.BoolKind:
			return protoreflect.ValueOfBool(!k.Bool())
		case protoreflect.StringKind:
			return protoreflect.ValueOfString(k.String() + "~")
		}
		return k
	})
}

// The smallest normal magnitudes: below them (and above 0) a value is subnormal.
const (
	smallestNormal64 = 0x1p-1022
	smallestNormal32 = 0x1p-126
)

// floatsFlushed: scripted-floats-flushed. NaN, ±Infinity, −0 and subnormals become 0 (doubles
// and floats); every other double is rounded to float32 precision.
func floatsFlushed(m protoreflect.Message) {
	special := func(d, smallestNormal float64) bool {
		return math.IsNaN(d) || math.IsInf(d, 0) || (d == 0 && math.Signbit(d)) || (d != 0 && math.Abs(d) < smallestNormal)
	}
	scalars(m, func(fd protoreflect.FieldDescriptor, v protoreflect.Value) protoreflect.Value {
		switch fd.Kind() {
		case protoreflect.DoubleKind:
			if special(v.Float(), smallestNormal64) {
				return protoreflect.ValueOfFloat64(0)
			}
			return protoreflect.ValueOfFloat64(float64(float32(v.Float())))
		case protoreflect.FloatKind:
			if special(v.Float(), smallestNormal32) {
				return protoreflect.ValueOfFloat32(0)
			}
		}
		return v
	})
}

// bytesTruncated: scripted-bytes-truncated. Every non-empty bytes value loses its last byte.
func bytesTruncated(m protoreflect.Message) {
	scalars(m, func(fd protoreflect.FieldDescriptor, v protoreflect.Value) protoreflect.Value {
		if fd.Kind() != protoreflect.BytesKind {
			return v
		}
		if b := v.Bytes(); len(b) > 0 {
			return protoreflect.ValueOfBytes(append([]byte(nil), b[:len(b)-1]...))
		}
		return v
	})
}

// stringsTruncated: scripted-strings-truncated. Every non-empty string value (not map keys)
// loses its last code point.
func stringsTruncated(m protoreflect.Message) {
	scalars(m, func(fd protoreflect.FieldDescriptor, v protoreflect.Value) protoreflect.Value {
		if fd.Kind() != protoreflect.StringKind {
			return v
		}
		if s := v.String(); s != "" {
			_, size := utf8.DecodeLastRuneInString(s)
			return protoreflect.ValueOfString(s[:len(s)-size])
		}
		return v
	})
}

// presenceLost: scripted-presence-lost. Every optional field and oneof member (both belong to a
// oneof in protoreflect: proto3 optional is a synthetic one) set to its zero value, or to a
// message with no field set, is cleared.
func presenceLost(m protoreflect.Message) {
	for _, fd := range presentFields(m) {
		if fd.ContainingOneof() == nil || fd.IsList() || fd.IsMap() {
			continue
		}
		v := m.Get(fd)
		zero := false
		if fd.Message() != nil {
			zero = len(presentFields(v.Message())) == 0
		} else {
			zero = v.Equal(fd.Default())
		}
		if zero {
			m.Clear(fd)
		}
	}
}

// repeatedTruncated: scripted-repeated-truncated. Every non-empty repeated field (not maps)
// loses its last element.
func repeatedTruncated(m protoreflect.Message) {
	for _, fd := range presentFields(m) {
		if fd.IsList() {
			l := m.Mutable(fd).List()
			l.Truncate(l.Len() - 1)
		}
	}
}
