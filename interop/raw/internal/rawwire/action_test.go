package rawwire

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2/hpack"
)

// plain reads the common kinds with the default wording; qualified words errors as the
// server does and reads sizes as ints.
var (
	plain     = Dialect{Kinds: []Kind{Headers, Message, Data, RSTStream, GoAway, SleepMS}}
	qualified = Dialect{
		Kinds: []Kind{Headers, Message, Data, RSTStream, GoAway.With("last_stream_id"), SleepMS},
		MemberError: func(kind, member string, err error) error {
			return fmt.Errorf("%s: %s: %v", kind, member, err)
		},
		UnknownMember: func(kind, member string, _ []string) error {
			return fmt.Errorf("%s: unknown member %q", kind, member)
		},
		SignedSizes: true,
	}
)

func TestParseActionsReadsEachKind(t *testing.T) {
	doc := `[{"headers":[[":status","200"],["X-A","b"]],"end_stream":true,"split":3},
		{"message":"0A0b","compressed":true,"length":7,"frame_size":2,"end_stream":true},
		{"message":""},
		{"data":"","end_stream":true},
		{"rst_stream":8},
		{"goaway":2,"debug":"why","last_stream_id":5},
		{"sleep_ms":20}]`
	five := uint32(5)
	want := []Action{
		{Kind: "headers", Fields: []hpack.HeaderField{{Name: ":status", Value: "200"}, {Name: "X-A", Value: "b"}}, EndStream: true, Split: 3},
		{Kind: "message", Payload: []byte{1, 0, 0, 0, 7, 0x0a, 0x0b}, FrameSize: 2, EndStream: true},
		{Kind: "message", Payload: []byte{0, 0, 0, 0, 0}},
		{Kind: "data", Payload: []byte{}, EndStream: true},
		{Kind: "rst_stream", Code: 8},
		{Kind: "goaway", Code: 2, Debug: "why", LastID: &five},
		{Kind: "sleep_ms", Sleep: 20 * time.Millisecond},
	}
	got, err := qualified.ParseActions([]byte(doc), "actions", "not an array")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got, err := plain.ParseActions([]byte(`[]`), "actions", "not an array"); err != nil || got != nil {
		t.Errorf("no actions: %+v, %v", got, err)
	}
}

func TestParseActionsErrors(t *testing.T) {
	for _, c := range []struct {
		d    *Dialect
		doc  string
		want string // the error, or its beginning when it ends with "…"
	}{
		{&plain, `{}`, "not an array"},
		{&plain, `null`, "not an array"},
		{&plain, `["x"]`, "list[0]: not a JSON object: …"},
		{&plain, `[null]`, "list[0]: not a JSON object: null"},
		{&plain, `[{"sleep_ms":1},{} ]`, "list[1]: an action has exactly one of headers, message, data, rst_stream, goaway, sleep_ms (this one has 0: )"},
		{&plain, `[{"rst_stream":1,"data":"00"}]`, "list[0]: an action has exactly one of headers, message, data, rst_stream, goaway, sleep_ms (this one has 2: data, rst_stream)"},
		{&plain, `[{"headers":[],"foo":1,"bar":2}]`, `list[0]: unknown member "bar" (a headers action has headers, end_stream, split)`},
		{&qualified, `[{"headers":[],"foo":1,"bar":2}]`, `list[0]: headers: unknown member "bar"`},
		{&plain, `[{"goaway":0,"last_stream_id":1}]`, `list[0]: unknown member "last_stream_id" (a goaway action has goaway, debug)`},
		{&qualified, `[{"goaway":0,"last_stream_id":2147483648}]`, "list[0]: goaway: last_stream_id is over 2^31-1"},
		{&plain, `[{"message":"abc"}]`, "list[0]: message: not hex: encoding/hex: odd length hex string"},
		{&plain, `[{"data":"zz"}]`, "list[0]: data: not hex: …"},
		{&plain, `[{"headers":[["a"]]}]`, "list[0]: headers[0]: a header is [NAME, VALUE], this one has 1 strings"},
		{&plain, `[{"headers":[],"split":-1}]`, "list[0]: split: json: cannot unmarshal number -1 into Go value of type uint32"},
		{&qualified, `[{"headers":[],"split":-1}]`, "list[0]: headers: split is negative"},
		{&qualified, `[{"headers":[],"split":1.5}]`, "list[0]: headers: split: json: cannot unmarshal number 1.5 into Go value of type int"},
		{&qualified, `[{"message":"zz","frame_size":-1}]`, "list[0]: message: not hex: …"},
		{&qualified, `[{"message":"","frame_size":-1}]`, "list[0]: message: frame_size is negative"},
		{&plain, `[{"message":"","length":-1}]`, "list[0]: length: json: …"},
		{&plain, `[{"data":"","end_stream":"yes"}]`, "list[0]: end_stream: json: …"},
		{&plain, `[{"sleep_ms":-5}]`, "list[0]: sleep_ms: json: …"},
	} {
		_, err := c.d.ParseActions([]byte(c.doc), "list", "not an array")
		got := fmt.Sprint(err)
		ok := err != nil && got == c.want
		if prefix, cut := strings.CutSuffix(c.want, "…"); cut {
			ok = err != nil && strings.HasPrefix(got, prefix) && len(got) > len(prefix)
		}
		if !ok {
			t.Errorf("%s: %q, want %q", c.doc, got, c.want)
		}
	}
}

func TestKindsOfTheirOwn(t *testing.T) {
	d := Dialect{Kinds: []Kind{Headers, {Name: "wait", Read: func(o *Object, a *Action) error {
		var what string
		if err := o.Get("wait", &what); err != nil {
			return err
		}
		if what != "headers" {
			return fmt.Errorf("wait: %q", what)
		}
		return nil
	}}}}
	a, err := d.ParseAction([]byte(`{"wait":"headers"}`))
	if err != nil || a.Kind != "wait" {
		t.Errorf("wait: %+v, %v", a, err)
	}
	if _, err := d.ParseAction([]byte(`{"wait":"trailers"}`)); fmt.Sprint(err) != `wait: "trailers"` {
		t.Errorf("wait trailers: %v", err)
	}
	if _, err := d.ParseAction([]byte(`{"sleep_ms":1}`)); fmt.Sprint(err) != "an action has exactly one of headers, wait (this one has 0: )" {
		t.Errorf("a kind the dialect does not take: %v", err)
	}
}

func TestMembers(t *testing.T) {
	m, err := Members([]byte(` {"b":1,"a":[2]} `))
	if err != nil || len(m) != 2 || string(m["a"]) != "[2]" {
		t.Fatalf("%v, %v", m, err)
	}
	if keys := SortedKeys(m); strings.Join(keys, ",") != "a,b" {
		t.Errorf("sorted keys %v", keys)
	}
	for doc, want := range map[string]string{
		`[]`:        "not a JSON object: …",
		`null`:      "not a JSON object: null",
		`{} {}`:     "text after the JSON object",
		`{"a":1} x`: "text after the JSON object",
		``:          "not a JSON object: EOF",
	} {
		_, err := Members([]byte(doc))
		got := fmt.Sprint(err)
		if prefix, cut := strings.CutSuffix(want, "…"); !(got == want || cut && strings.HasPrefix(got, prefix)) {
			t.Errorf("%q: %q, want %q", doc, got, want)
		}
	}
}
