package result

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		line Line
		want string
	}{
		{New("greeter_say_hello", 12500*time.Microsecond, nil, nil), `{"case":"greeter_say_hello","status":"passed","ms":12.5}`},
		{New("x", 5003149*time.Microsecond, errors.New(`SayHello("world"): <got> "Hello & bye"`), nil),
			`{"case":"x","status":"failed","ms":5003.1,"error":"SayHello(\"world\"): <got> \"Hello & bye\""}`},
		{New("y", 0, nil, nil), `{"case":"y","status":"passed","ms":0}`},
	} {
		var out strings.Builder
		if err := Write(&out, tc.line); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != tc.want+"\n" {
			t.Errorf("Write printed %s, want %s", got, tc.want)
		}
		var back Line
		if err := json.Unmarshal([]byte(out.String()), &back); err != nil || back != tc.line {
			t.Errorf("%s does not read back: %+v, %v", out.String(), back, err)
		}
	}
}

// TestWriteObserved: what a case observed goes on its line as "observed", passed or failed.
func TestWriteObserved(t *testing.T) {
	observed := struct {
		Language string `json:"language"`
		Version  string `json:"version"`
	}{"go", "1.2.3<&>"}
	for _, tc := range []struct {
		line Line
		want string
	}{
		{New("server_info_version", 2*time.Millisecond, nil, observed),
			`{"case":"server_info_version","status":"passed","ms":2,"observed":{"language":"go","version":"1.2.3<&>"}}`},
		{New("z", 0, errors.New("bad"), map[string]string{"a": "b"}),
			`{"case":"z","status":"failed","ms":0,"error":"bad","observed":{"a":"b"}}`},
	} {
		var out strings.Builder
		if err := Write(&out, tc.line); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != tc.want+"\n" {
			t.Errorf("Write printed %s, want %s", got, tc.want)
		}
	}
}

func TestRounding(t *testing.T) {
	if got := Millis(1234567 * time.Nanosecond); got != 1.2 {
		t.Errorf("Millis(1.234567ms) = %v, want 1.2", got)
	}
	if got := Micros(1250 * time.Nanosecond); got != 1.3 {
		t.Errorf("Micros(1.25µs) = %v, want 1.3", got)
	}
	if got := Tenths(49999.96); got != 50000 {
		t.Errorf("Tenths(49999.96) = %v, want 50000", got)
	}
}
