package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http2/hpack"
)

// scriptHeader is the request header that holds a call's scenario.
const scriptHeader = "x-raw-response-bin"

// script is what one call asks the server to do.
type script struct {
	actions          []action
	respondBeforeEnd bool // start right after the request HEADERS, not at its END_STREAM
}

// action is one step of a script; kind says which members apply.
type action struct {
	kind string // one of the keys of actionMembers

	fields    []hpack.HeaderField // headers
	split     int                 // headers: CONTINUATION piece size, 0 for none
	payload   []byte              // message: the whole length-prefixed message; data: the bytes
	frameSize int                 // message: DATA frame size, 0 for one frame
	endStream bool                // headers, message, data
	code      uint32              // rst_stream, goaway
	lastID    *uint32             // goaway; nil: the stream's own id
	debug     string              // goaway
	sleep     time.Duration       // sleep_ms
}

// actionMembers lists, for each kind of action, the members it may have besides its own.
var actionMembers = map[string][]string{
	"headers":    {"end_stream", "split"},
	"message":    {"compressed", "length", "frame_size", "end_stream"},
	"data":       {"end_stream"},
	"rst_stream": {},
	"goaway":     {"last_stream_id", "debug"},
	"sleep_ms":   {},
	"close":      {},
}

// scriptFromHeaders finds and decodes the x-raw-response-bin request header.
func scriptFromHeaders(fields []hpack.HeaderField) (script, error) {
	var values []string
	for _, f := range fields {
		if f.Name == scriptHeader {
			values = append(values, f.Value)
		}
	}
	switch {
	case len(values) == 0:
		return script{}, errors.New("the request has no " + scriptHeader + " header")
	case len(values) > 1:
		return script{}, fmt.Errorf("the request has %d %s headers, not one", len(values), scriptHeader)
	case strings.Contains(values[0], ","):
		return script{}, errors.New(scriptHeader + " holds several values (a comma)")
	}
	doc, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(values[0], "="))
	if err != nil {
		return script{}, fmt.Errorf("%s is not base64: %v", scriptHeader, err)
	}
	return parseScript(doc)
}

// parseScript parses the JSON document {"actions":[…], "respond_before_end":false}.
func parseScript(doc []byte) (script, error) {
	if !utf8.Valid(doc) {
		return script{}, errors.New(scriptHeader + " is not UTF-8")
	}
	top, err := members(doc)
	if err != nil {
		return script{}, fmt.Errorf("%s: %v", scriptHeader, err)
	}
	var sc script
	for name, raw := range top {
		switch name {
		case "actions":
		case "respond_before_end":
			if err := json.Unmarshal(raw, &sc.respondBeforeEnd); err != nil {
				return script{}, fmt.Errorf("respond_before_end: %v", err)
			}
		default:
			return script{}, fmt.Errorf("unknown member %q (the document has actions and respond_before_end)", name)
		}
	}
	raw, ok := top["actions"]
	if !ok {
		return script{}, errors.New("the document has no actions")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return script{}, errors.New("actions is not an array")
	}
	for i, raw := range list {
		a, err := parseAction(raw)
		if err != nil {
			return script{}, fmt.Errorf("actions[%d]: %v", i, err)
		}
		sc.actions = append(sc.actions, a)
	}
	return sc, nil
}

// members decodes one JSON object into its members, refusing anything after it.
func members(doc []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if m == nil {
		return nil, errors.New("not a JSON object: null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("text after the JSON object")
	}
	return m, nil
}

func parseAction(raw json.RawMessage) (action, error) {
	m, err := members(raw)
	if err != nil {
		return action{}, err
	}
	var kinds []string
	for name := range m {
		if _, ok := actionMembers[name]; ok {
			kinds = append(kinds, name)
		}
	}
	slices.Sort(kinds)
	if len(kinds) != 1 {
		return action{}, fmt.Errorf("an action has exactly one of headers, message, data, rst_stream, goaway, sleep_ms, close (this one has %d: %s)",
			len(kinds), strings.Join(kinds, ", "))
	}
	a := action{kind: kinds[0]}
	for name := range m {
		if name != a.kind && !slices.Contains(actionMembers[a.kind], name) {
			return action{}, fmt.Errorf("%s: unknown member %q", a.kind, name)
		}
	}
	// get decodes member name, if present, into v.
	get := func(name string, v any) error {
		raw, ok := m[name]
		if !ok {
			return nil
		}
		if err := json.Unmarshal(raw, v); err != nil {
			if name == a.kind {
				return fmt.Errorf("%s: %v", name, err)
			}
			return fmt.Errorf("%s: %s: %v", a.kind, name, err)
		}
		return nil
	}
	if err := get("end_stream", &a.endStream); err != nil {
		return action{}, err
	}

	switch a.kind {
	case "headers":
		var pairs [][]string
		if err := get("headers", &pairs); err != nil {
			return action{}, err
		}
		for i, p := range pairs {
			if len(p) != 2 {
				return action{}, fmt.Errorf("headers[%d]: a header is [NAME, VALUE], this one has %d strings", i, len(p))
			}
			a.fields = append(a.fields, hpack.HeaderField{Name: p[0], Value: p[1]})
		}
		if err := get("split", &a.split); err != nil {
			return action{}, err
		}
		if a.split < 0 {
			return action{}, errors.New("headers: split is negative")
		}

	case "message":
		var hexMsg string
		var compressed bool
		var length *uint32
		for _, e := range []error{get("message", &hexMsg), get("compressed", &compressed), get("length", &length), get("frame_size", &a.frameSize)} {
			if e != nil {
				return action{}, e
			}
		}
		msg, err := hex.DecodeString(hexMsg)
		if err != nil {
			return action{}, fmt.Errorf("message: not hex: %v", err)
		}
		if a.frameSize < 0 {
			return action{}, errors.New("message: frame_size is negative")
		}
		n := uint32(len(msg))
		if length != nil {
			n = *length
		}
		a.payload = make([]byte, 5, 5+len(msg))
		if compressed {
			a.payload[0] = 1
		}
		binary.BigEndian.PutUint32(a.payload[1:], n)
		a.payload = append(a.payload, msg...)

	case "data":
		var hexData string
		if err := get("data", &hexData); err != nil {
			return action{}, err
		}
		if a.payload, err = hex.DecodeString(hexData); err != nil {
			return action{}, fmt.Errorf("data: not hex: %v", err)
		}

	case "rst_stream":
		if err := get("rst_stream", &a.code); err != nil {
			return action{}, err
		}

	case "goaway":
		if err := get("goaway", &a.code); err != nil {
			return action{}, err
		}
		if err := get("last_stream_id", &a.lastID); err != nil {
			return action{}, err
		}
		if a.lastID != nil && *a.lastID >= 1<<31 {
			return action{}, errors.New("goaway: last_stream_id is over 2^31-1")
		}
		if err := get("debug", &a.debug); err != nil {
			return action{}, err
		}

	case "sleep_ms":
		var ms uint32
		if err := get("sleep_ms", &ms); err != nil {
			return action{}, err
		}
		a.sleep = time.Duration(ms) * time.Millisecond

	case "close":
		var yes bool
		if err := get("close", &yes); err != nil {
			return action{}, err
		}
		if !yes {
			return action{}, errors.New(`close: the action is {"close": true}`)
		}
	}
	return a, nil
}
