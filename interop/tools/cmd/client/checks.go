package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
)

// A check judges one run of a tool; the error says what was expected and what came back.
type check func(r toolRun) error

// all checks in order and returns the first failure.
func all(checks ...check) check {
	return func(r toolRun) error {
		for _, c := range checks {
			if err := c(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// exited checks the tool's exit code.
func exited(code int) check {
	return func(r toolRun) error {
		if r.killed {
			return fmt.Errorf("expected exit code %d, but it was still running %v after the start and was killed; output %s", code, r.limit, excerpt(r.output()))
		}
		if r.exitCode != code {
			return fmt.Errorf("expected exit code %d, got %d; output %s", code, r.exitCode, excerpt(r.output()))
		}
		return nil
	}
}

// outputLine checks that stdout or stderr has the line (surrounding spaces aside).
func outputLine(line string) check {
	return func(r toolRun) error {
		if !slices.Contains(trimmedLines(r.output()), line) {
			return fmt.Errorf("expected the line %q in the output, got %s", line, excerpt(r.output()))
		}
		return nil
	}
}

// outputContains checks that stdout or stderr contains text.
func outputContains(text string) check {
	return func(r toolRun) error {
		if !strings.Contains(r.output(), text) {
			return fmt.Errorf("expected %q in the output, got %s", text, excerpt(r.output()))
		}
		return nil
	}
}

// listsLines checks that stdout has a line for each of names (other lines may come too).
func listsLines(names []string) check {
	return func(r toolRun) error {
		if missing := difference(names, trimmedLines(r.stdout)); len(missing) > 0 {
			return fmt.Errorf("expected a line for each of %d names, missing %q; got %s", len(names), missing, excerpt(r.stdout))
		}
		return nil
	}
}

// jsonObject checks that stdout is exactly one JSON object, equal to want.
func jsonObject(want string) check {
	return func(r toolRun) error {
		got, err := decodeObject(r.stdout)
		if err != nil {
			return err
		}
		if w := mustDecode(want); !reflect.DeepEqual(got, w) {
			return fmt.Errorf("expected the JSON object %s, got %s", want, excerpt(r.stdout))
		}
		return nil
	}
}

// jsonMember checks that stdout is exactly one JSON object whose member name is the JSON
// value want (a string stays a string: "1" is not 1).
func jsonMember(name, want string) check {
	return func(r toolRun) error {
		got, err := decodeObject(r.stdout)
		if err != nil {
			return err
		}
		if v, ok := got[name]; !ok || !reflect.DeepEqual(v, mustDecode(want)) {
			return fmt.Errorf("expected %q to be %s, got %s", name, want, excerpt(r.stdout))
		}
		return nil
	}
}

// decodeObject reads text as exactly one JSON object, numbers kept as written.
func decodeObject(text string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, fmt.Errorf("expected one JSON object on stdout, got %s", excerpt(text))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("expected one JSON object on stdout and nothing after it, got %s", excerpt(text))
	}
	return obj, nil
}

func mustDecode(text string) any {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(fmt.Sprintf("bad JSON in a case: %s", text))
	}
	return v
}

// trimmedLines splits text into lines without surrounding spaces.
func trimmedLines(text string) []string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return lines
}

// difference is the elements of a that b lacks, in a's order.
func difference(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// excerpt quotes a tool's output for an error message, shortened when long.
func excerpt(text string) string {
	const max = 600
	text = strings.TrimSpace(text)
	if text == "" {
		return "(nothing)"
	}
	if len(text) > max {
		return fmt.Sprintf("%q… (%d bytes)", text[:max], len(text))
	}
	return fmt.Sprintf("%q", text)
}
