package scripted

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Unknown fields in an instruction (docs/peer-contract.md, "Client: the generic executor"): any
// JSON object of a request that stands for a protobuf message may carry "$unknown": "HEX", the
// wire-format bytes of fields its schema does not declare. protojson would refuse the member, so
// the executor takes every "$unknown" out of the request's JSON first (the rest of the text is
// kept byte for byte: protojson judges exactly what the case wrote), converts the request as
// usual, then appends each one's bytes to the unknown fields of the message it stood for, with
// protobuf-go's own means (protoreflect.Message.SetUnknown), as an application relaying bytes it
// does not know would.

// unknownMember is the member an instruction uses for unknown fields.
const unknownMember = "$unknown"

// unknownTree holds the "$unknown" bytes of one message of a request and of the messages it
// holds, by field; nil when none of them had any.
type unknownTree struct {
	raw    []byte
	fields map[protoreflect.FieldNumber]*unknownField
}

// unknownField holds the unknown fields of the messages one field holds: the singular message,
// the list elements by index, or the map values by their key as the JSON wrote it.
type unknownField struct {
	fd      protoreflect.FieldDescriptor
	single  *unknownTree
	list    map[int]*unknownTree
	entries map[string]*unknownTree
}

func (t *unknownTree) field(fd protoreflect.FieldDescriptor) *unknownField {
	if t.fields == nil {
		t.fields = map[protoreflect.FieldNumber]*unknownField{}
	}
	f := t.fields[fd.Number()]
	if f == nil {
		f = &unknownField{fd: fd}
		t.fields[fd.Number()] = f
	}
	return f
}

// jsonMember is one member of a JSON object: its key decoded, and its key and value as written.
type jsonMember struct {
	key      string
	rawKey   []byte
	rawValue json.RawMessage
}

// objectMembers splits a JSON object into its members, in order (duplicates kept); ok is false
// when raw is not one well-formed JSON object (protojson then judges the text as it is).
func objectMembers(raw []byte) (members []jsonMember, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, isKey := tok.(string)
		if !isKey {
			return nil, false
		}
		rawKey := bytes.TrimLeft(raw[start:dec.InputOffset()], " \t\r\n,")
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, false
		}
		members = append(members, jsonMember{key: key, rawKey: rawKey, rawValue: value})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') || !onlySpace(raw[dec.InputOffset():]) {
		return nil, false
	}
	return members, true
}

// arrayElements splits a JSON array into its elements as written; ok is false when raw is not
// one well-formed JSON array.
func arrayElements(raw []byte) (elements []json.RawMessage, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, false
	}
	for dec.More() {
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, false
		}
		elements = append(elements, value)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') || !onlySpace(raw[dec.InputOffset():]) {
		return nil, false
	}
	return elements, true
}

func onlySpace(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// writeObject writes members back as a JSON object, keys and values as written.
func writeObject(members []jsonMember) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(m.rawKey)
		b.WriteByte(':')
		b.Write(m.rawValue)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// specialJSON: the well-known types whose proto3 JSON form is not an object of their fields
// (Any included: its members are the packed message's, with "@type"). Their JSON is left to
// protojson as it is; a "$unknown" inside one is not supported (protojson refuses it).
func specialJSON(md protoreflect.MessageDescriptor) bool {
	if md.ParentFile().Package() != "google.protobuf" {
		return false
	}
	switch md.Name() {
	case "Any", "Duration", "Timestamp", "FieldMask", "Struct", "Value", "ListValue",
		"DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value",
		"BoolValue", "StringValue", "BytesValue":
		return true
	}
	return false
}

// stripUnknown takes every "$unknown" member out of raw, the JSON of a message of type md, and
// of the messages it holds (fields named by their proto or JSON name, as protojson reads them).
// It returns the JSON without them (raw itself, byte for byte, when there were none: tree nil)
// and their bytes. A "$unknown" that is not a string of hex digits is an error. JSON that does
// not have the shape of md is left as it is, for protojson to judge.
func stripUnknown(raw json.RawMessage, md protoreflect.MessageDescriptor) (json.RawMessage, *unknownTree, error) {
	if specialJSON(md) {
		return raw, nil, nil
	}
	members, ok := objectMembers(raw)
	if !ok {
		return raw, nil, nil
	}
	var tree *unknownTree
	node := func() *unknownTree {
		if tree == nil {
			tree = &unknownTree{}
		}
		return tree
	}
	kept := members[:0:0]
	for _, m := range members {
		if m.key == unknownMember {
			var text string
			if err := json.Unmarshal(m.rawValue, &text); err != nil {
				return nil, nil, fmt.Errorf("%s in %s: must be a string of hex digits, got %s", unknownMember, md.FullName(), m.rawValue)
			}
			b, err := hex.DecodeString(text)
			if err != nil {
				return nil, nil, fmt.Errorf("%s in %s: %q is not hex: %v", unknownMember, md.FullName(), text, err)
			}
			t := node()
			t.raw = append(t.raw, b...)
			continue
		}
		fields := md.Fields()
		fd := fields.ByJSONName(m.key)
		if fd == nil {
			fd = fields.ByTextName(m.key)
		}
		if fd != nil {
			value, sub, err := stripField(m.rawValue, fd)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", m.key, err)
			}
			if sub != nil {
				m.rawValue = value
				f := node().field(fd)
				f.single, f.list, f.entries = sub.single, sub.list, sub.entries
			}
		}
		kept = append(kept, m)
	}
	if tree == nil {
		return raw, nil, nil
	}
	return writeObject(kept), tree, nil
}

// stripField is stripUnknown for the value of field fd: a message, a list of messages or a map
// with message values. sub is nil when the value had no "$unknown".
func stripField(raw json.RawMessage, fd protoreflect.FieldDescriptor) (json.RawMessage, *unknownField, error) {
	switch {
	case fd.IsMap():
		vd := fd.MapValue().Message()
		if vd == nil || specialJSON(vd) {
			return raw, nil, nil
		}
		members, ok := objectMembers(raw)
		if !ok {
			return raw, nil, nil
		}
		var sub *unknownField
		for i, m := range members {
			value, t, err := stripUnknown(m.rawValue, vd)
			if err != nil {
				return nil, nil, fmt.Errorf("[%q]: %v", m.key, err)
			}
			if t == nil {
				continue
			}
			if sub == nil {
				sub = &unknownField{fd: fd, entries: map[string]*unknownTree{}}
			}
			members[i].rawValue = value
			sub.entries[m.key] = t
		}
		if sub == nil {
			return raw, nil, nil
		}
		return writeObject(members), sub, nil
	case fd.IsList():
		if fd.Message() == nil || specialJSON(fd.Message()) {
			return raw, nil, nil
		}
		elements, ok := arrayElements(raw)
		if !ok {
			return raw, nil, nil
		}
		var sub *unknownField
		for i, e := range elements {
			value, t, err := stripUnknown(e, fd.Message())
			if err != nil {
				return nil, nil, fmt.Errorf("[%d]: %v", i, err)
			}
			if t == nil {
				continue
			}
			if sub == nil {
				sub = &unknownField{fd: fd, list: map[int]*unknownTree{}}
			}
			elements[i] = value
			sub.list[i] = t
		}
		if sub == nil {
			return raw, nil, nil
		}
		var b bytes.Buffer
		b.WriteByte('[')
		for i, e := range elements {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(e)
		}
		b.WriteByte(']')
		return b.Bytes(), sub, nil
	case fd.Message() != nil:
		value, t, err := stripUnknown(raw, fd.Message())
		if err != nil || t == nil {
			return value, nil, err
		}
		return value, &unknownField{fd: fd, single: t}, nil
	}
	return raw, nil, nil
}

// apply appends the unknown fields of t to m (the message protojson made of the JSON t was
// taken from) and to the messages it holds: m.SetUnknown(append(m.GetUnknown(), raw...)).
func (t *unknownTree) apply(m protoreflect.Message) error {
	if t == nil {
		return nil
	}
	if len(t.raw) > 0 {
		m.SetUnknown(append(m.GetUnknown(), t.raw...))
	}
	numbers := make([]protoreflect.FieldNumber, 0, len(t.fields))
	for n := range t.fields {
		numbers = append(numbers, n)
	}
	sort.Slice(numbers, func(i, j int) bool { return numbers[i] < numbers[j] })
	for _, n := range numbers {
		f := t.fields[n]
		fd := f.fd
		name := string(fd.Name())
		switch {
		case fd.IsMap():
			mp := m.Get(fd).Map()
			keys := make([]string, 0, len(f.entries))
			for k := range f.entries {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, text := range keys {
				k, err := mapKeyOf(fd.MapKey(), text)
				if err != nil {
					return fmt.Errorf("%s[%q]: %v", name, text, err)
				}
				v := mp.Get(k)
				if !v.IsValid() {
					return fmt.Errorf("%s[%q]: no such entry after the conversion", name, text)
				}
				if err := f.entries[text].apply(v.Message()); err != nil {
					return fmt.Errorf("%s[%q]: %v", name, text, err)
				}
			}
		case fd.IsList():
			l := m.Get(fd).List()
			for i, sub := range f.list {
				if i >= l.Len() {
					return fmt.Errorf("%s[%d]: no such element after the conversion", name, i)
				}
				if err := sub.apply(l.Get(i).Message()); err != nil {
					return fmt.Errorf("%s[%d]: %v", name, i, err)
				}
			}
		default:
			if !m.Has(fd) {
				return fmt.Errorf("%s: not set after the conversion", name)
			}
			if err := f.single.apply(m.Mutable(fd).Message()); err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
		}
	}
	return nil
}

// mapKeyOf is a JSON object key as the key of a map whose keys are kfd (the proto3 JSON mapping:
// integers in decimal, bools true/false, strings as they are).
func mapKeyOf(kfd protoreflect.FieldDescriptor, text string) (protoreflect.MapKey, error) {
	switch kfd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(text).MapKey(), nil
	case protoreflect.BoolKind:
		switch text {
		case "true":
			return protoreflect.ValueOfBool(true).MapKey(), nil
		case "false":
			return protoreflect.ValueOfBool(false).MapKey(), nil
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 32); err == nil {
			return protoreflect.ValueOfInt32(int32(n)).MapKey(), nil
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64); err == nil {
			return protoreflect.ValueOfInt64(n).MapKey(), nil
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if n, err := strconv.ParseUint(strings.TrimSpace(text), 10, 32); err == nil {
			return protoreflect.ValueOfUint32(uint32(n)).MapKey(), nil
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if n, err := strconv.ParseUint(strings.TrimSpace(text), 10, 64); err == nil {
			return protoreflect.ValueOfUint64(n).MapKey(), nil
		}
	}
	return protoreflect.MapKey{}, errors.New("not a key of this map")
}
