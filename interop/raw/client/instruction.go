package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"interopraw/internal/rawwire"
)

// instruction is what the raw client takes from a case: {"raw_request": {"actions": […]},
// "timeout_ms": N}. Other members of the instruction are the other clients' business.
type instruction struct {
	actions []rawwire.Action // the fields of headers before {authority} and {scheme} are replaced
	timeout time.Duration    // 0: --rpc_timeout_ms
}

// dialect is how the client reads actions: the kinds both programs take (goaway without
// last_stream_id) and wait.
var dialect = rawwire.Dialect{
	Kinds: []rawwire.Kind{rawwire.Headers, rawwire.Message, rawwire.Data, rawwire.RSTStream,
		rawwire.GoAway, rawwire.SleepMS, {Name: "wait", Read: readWait}},
}

// readWait reads {"wait": "headers"}: wait for the server's first header block.
func readWait(o *rawwire.Object, _ *rawwire.Action) error {
	var what string
	if err := o.Get("wait", &what); err != nil {
		return err
	}
	if what != "headers" {
		return fmt.Errorf(`wait: %q (the one thing to wait for is "headers")`, what)
	}
	return nil
}

// wellBehavedActions are one correct unary gRPC call with an empty message (client fault
// raw-client-well-behaved).
var wellBehavedActions = []rawwire.Action{
	{Kind: "headers", Fields: rawwire.RequestHeaders("{scheme}", "/interop.scripted.Scripted/Unary", "{authority}")},
	{Kind: "message", Payload: rawwire.LengthPrefixed(nil, false, 0), EndStream: true},
}

// parseInstruction reads a case's instruction; with ignoreActions (the fault) only its
// timeout_ms.
func parseInstruction(doc []byte, ignoreActions bool) (instruction, error) {
	top, err := rawwire.Members(doc)
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
	req, err := rawwire.Members(raw)
	if err != nil {
		return instruction{}, fmt.Errorf("raw_request: %v", err)
	}
	for _, name := range rawwire.SortedKeys(req) {
		if name != "actions" {
			return instruction{}, fmt.Errorf("raw_request: unknown member %q (it has actions only)", name)
		}
	}
	raw, ok = req["actions"]
	if !ok {
		return instruction{}, errors.New("raw_request: no actions")
	}
	if inst.actions, err = dialect.ParseActions(raw, "raw_request.actions", "raw_request.actions: not an array"); err != nil {
		return instruction{}, err
	}
	return inst, nil
}
