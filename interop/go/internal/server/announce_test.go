package server

import (
	"strings"
	"testing"
)

func TestAnnounce(t *testing.T) {
	var out strings.Builder
	if err := announce(&out, 50051); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), `{"event":"listening","port":50051}`+"\n"; got != want {
		t.Errorf("announce printed %q, want %q", got, want)
	}
	if port, err := parseListening(out.String()); err != nil || port != 50051 {
		t.Errorf("parseListening(%q) = %d, %v", out.String(), port, err)
	}
	for _, line := range []string{"", "hello\n", `{"event":"stopped","port":1}`} {
		if _, err := parseListening(line); err == nil {
			t.Errorf("parseListening(%q) accepted it", line)
		}
	}
}
