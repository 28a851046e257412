package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http2/hpack"
)

// instruction is what the raw client takes from a case: {"raw_request": {"actions": […]},
// "timeout_ms": N}. Other members of the instruction are the other clients' business.
type instruction struct {
	actions []action
	timeout time.Duration // 0: --rpc_timeout_ms
}

// action is one step of a raw request; kind says which members apply.
type action struct {
	kind string // one of the keys of actionMembers

	fields    []hpack.HeaderField // headers, before {authority} and {scheme} are replaced
	split     int                 // headers: CONTINUATION piece size, 0 for none
	payload   []byte              // message: the whole length-prefixed message; data: the bytes
	frameSize int                 // message: the largest DATA frame, 0 for no limit of its own
	endStream bool                // headers, message, data
	code      uint32              // rst_stream, goaway
	debug     string              // goaway
	sleep     time.Duration       // sleep_ms
}

// actionMembers lists, for each kind of action, the members it may have besides its own.
var actionMembers = map[string][]string{
	"headers":    {"end_stream", "split"},
	"message":    {"compressed", "length", "frame_size", "end_stream"},
	"data":       {"end_stream"},
	"rst_stream": {},
	"goaway":     {"debug"},
	"sleep_ms":   {},
	"wait":       {},
}

// wellBehavedActions are one correct unary gRPC call with an empty message (client fault
// raw-client-well-behaved).
var wellBehavedActions = []action{
	{kind: "headers", fields: []hpack.HeaderField{
		{Name: ":method", Value: "POST"},
		{Name: ":scheme", Value: "{scheme}"},
		{Name: ":path", Value: "/interop.scripted.Scripted/Unary"},
		{Name: ":authority", Value: "{authority}"},
		{Name: "content-type", Value: "application/grpc"},
		{Name: "te", Value: "trailers"},
	}},
	{kind: "message", payload: []byte{0, 0, 0, 0, 0}, endStream: true},
}

// parseInstruction reads a case's instruction; with ignoreActions (the fault) only its
// timeout_ms.
func parseInstruction(doc []byte, ignoreActions bool) (instruction, error) {
	top, err := members(doc)
	if err != nil {
		return instruction{}, fmt.Errorf("the instruction: %v", err)
	}
	var inst instruction
	if raw, ok := top["timeout_ms"]; ok {
		var ms *uint32
		if err := json.Unmarshal(raw, &ms); err != nil {
			return instruction{}, fmt.Errorf("timeout_ms: %v", err)
		}
		if ms != nil {
			if *ms == 0 {
				return instruction{}, errors.New("timeout_ms: 0 (a deadline is 1 ms or more)")
			}
			inst.timeout = time.Duration(*ms) * time.Millisecond
		}
	}
	if ignoreActions {
		return inst, nil
	}
	raw, ok := top["raw_request"]
	if !ok {
		return instruction{}, errors.New("the instruction has no raw_request (the raw client runs raw_request instructions only)")
	}
	req, err := members(raw)
	if err != nil {
		return instruction{}, fmt.Errorf("raw_request: %v", err)
	}
	for _, name := range sortedKeys(req) {
		if name != "actions" {
			return instruction{}, fmt.Errorf("raw_request: unknown member %q (it has actions only)", name)
		}
	}
	raw, ok = req["actions"]
	if !ok {
		return instruction{}, errors.New("raw_request: no actions")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return instruction{}, errors.New("raw_request.actions: not an array")
	}
	for i, raw := range list {
		a, err := parseAction(raw)
		if err != nil {
			return instruction{}, fmt.Errorf("raw_request.actions[%d]: %v", i, err)
		}
		inst.actions = append(inst.actions, a)
	}
	return inst, nil
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

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func parseAction(raw json.RawMessage) (action, error) {
	m, err := members(raw)
	if err != nil {
		return action{}, err
	}
	var kinds []string
	for _, name := range sortedKeys(m) {
		if _, ok := actionMembers[name]; ok {
			kinds = append(kinds, name)
		}
	}
	if len(kinds) != 1 {
		return action{}, fmt.Errorf("an action has exactly one of headers, message, data, rst_stream, goaway, sleep_ms, wait (this one has %d: %s)",
			len(kinds), strings.Join(kinds, ", "))
	}
	a := action{kind: kinds[0]}
	for _, name := range sortedKeys(m) {
		if name != a.kind && !slices.Contains(actionMembers[a.kind], name) {
			return action{}, fmt.Errorf("unknown member %q (a %s action has %s)", name, a.kind,
				strings.Join(append([]string{a.kind}, actionMembers[a.kind]...), ", "))
		}
	}
	// get decodes member name, if present, into v.
	get := func(name string, v any) error {
		raw, ok := m[name]
		if !ok {
			return nil
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("%s: %v", name, err)
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
		var split uint32
		if err := get("split", &split); err != nil {
			return action{}, err
		}
		a.split = int(split)

	case "message":
		var hexMsg string
		var compressed bool
		var length *uint32
		var frameSize uint32
		for _, e := range []error{get("message", &hexMsg), get("compressed", &compressed), get("length", &length), get("frame_size", &frameSize)} {
			if e != nil {
				return action{}, e
			}
		}
		msg, err := hex.DecodeString(hexMsg)
		if err != nil {
			return action{}, fmt.Errorf("message: not hex: %v", err)
		}
		a.frameSize = int(frameSize)
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
		if err := get("debug", &a.debug); err != nil {
			return action{}, err
		}

	case "sleep_ms":
		var ms uint32
		if err := get("sleep_ms", &ms); err != nil {
			return action{}, err
		}
		a.sleep = time.Duration(ms) * time.Millisecond

	case "wait":
		var what string
		if err := get("wait", &what); err != nil {
			return action{}, err
		}
		if what != "headers" {
			return action{}, fmt.Errorf(`wait: %q (the one thing to wait for is "headers")`, what)
		}
	}
	return a, nil
}
