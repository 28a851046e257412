package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http2/hpack"

	"interopraw/internal/rawwire"
)

// scriptHeader is the request header that holds a call's scenario.
const scriptHeader = "x-raw-response-bin"

// script is what one call asks the server to do.
type script struct {
	actions          []rawwire.Action
	respondBeforeEnd bool // start right after the request HEADERS, not at its END_STREAM
}

// dialect is how the server reads actions: the kinds both programs take, goaway with a
// last_stream_id, and close; an error in a member names the action's kind first, and split
// and frame_size are ints.
var dialect = rawwire.Dialect{
	Kinds: []rawwire.Kind{rawwire.Headers, rawwire.Message, rawwire.Data, rawwire.RSTStream,
		rawwire.GoAway.With("last_stream_id"), rawwire.SleepMS, {Name: "close", Read: readClose}},
	MemberError: func(kind, member string, err error) error {
		if member == kind {
			return fmt.Errorf("%s: %v", member, err)
		}
		return fmt.Errorf("%s: %s: %v", kind, member, err)
	},
	UnknownMember: func(kind, member string, _ []string) error {
		return fmt.Errorf("%s: unknown member %q", kind, member)
	},
	SignedSizes: true,
}

// readClose reads {"close": true}: close the TCP connection at once.
func readClose(o *rawwire.Object, _ *rawwire.Action) error {
	var yes bool
	if err := o.Get("close", &yes); err != nil {
		return err
	}
	if !yes {
		return errors.New(`close: the action is {"close": true}`)
	}
	return nil
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
	top, err := rawwire.Members(doc)
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
	if sc.actions, err = dialect.ParseActions(raw, "actions", "actions is not an array"); err != nil {
		return script{}, err
	}
	return sc, nil
}
