package rawcli

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

const usage = "usage: p --port=P"

func TestParse(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--port=1"}, "<nil>"},
		{[]string{"-port", "1"}, "<nil>"},
		{[]string{"--help"}, usage},
		{[]string{"-h"}, usage},
		{[]string{"--nope=1"}, "flag provided but not defined: -nope (" + usage + ")"},
		{[]string{"--port=1", "extra"}, `unexpected argument "extra" (` + usage + ")"},
	} {
		fs := NewFlagSet("p")
		fs.String("port", "", "")
		if got := fmt.Sprint(Parse(fs, c.args, usage)); got != c.want {
			t.Errorf("%q: %s, want %s", c.args, got, c.want)
		}
	}
}

func TestPort(t *testing.T) {
	for _, c := range []struct {
		value  string
		lowest int
		port   int
		want   string
	}{
		{"0", 0, 0, "<nil>"},
		{"65535", 1, 65535, "<nil>"},
		{"", 0, 0, "--port is required (" + usage + ")"},
		{"0", 1, 0, "--port=0 is not a port number (1 to 65535)"},
		{"65536", 0, 0, "--port=65536 is not a port number (0 to 65535)"},
		{"-1", 0, 0, "--port=-1 is not a port number (0 to 65535)"},
		{"x", 0, 0, "--port=x is not a port number (0 to 65535)"},
	} {
		p, err := Port("--port", c.value, c.lowest, usage)
		if p != c.port || fmt.Sprint(err) != c.want {
			t.Errorf("%q from %d: %d, %v; want %d, %s", c.value, c.lowest, p, err, c.port, c.want)
		}
	}
}

func TestFault(t *testing.T) {
	for _, c := range []struct {
		value string
		on    bool
		want  string
	}{
		{"", false, "<nil>"},
		{"good", true, "<nil>"},
		{"good,good", true, "<nil>"},
		{"bad", false, `unknown fault "bad" (this server has only good)`},
		{"good,", false, `unknown fault "" (this server has only good)`},
	} {
		on, err := Fault(c.value, "good", "fault", "server")
		if on != c.on || fmt.Sprint(err) != c.want {
			t.Errorf("%q: %v, %v; want %v, %s", c.value, on, err, c.on, c.want)
		}
	}
}

func TestStart(t *testing.T) {
	parse := func(args []string) (string, error) {
		if len(args) > 0 {
			return "", errors.New("bad " + args[0])
		}
		return "cfg", nil
	}
	var stderr bytes.Buffer
	cfg, logger, ok := Start("raw p", nil, &stderr, parse)
	if !ok || cfg != "cfg" || logger == nil {
		t.Fatalf("good flags: %q, %v, %v", cfg, logger, ok)
	}
	logger.Printf("hello")
	if _, _, ok := Start("raw p", []string{"x"}, &stderr, parse); ok {
		t.Error("bad flags: ok")
	}
	if got := stderr.String(); got != "raw p: hello\nraw p: bad x\n" {
		t.Errorf("stderr %q", got)
	}
}
