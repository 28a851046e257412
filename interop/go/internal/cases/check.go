package cases

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Every error names the call and its input, what was expected and what came back.

// expect checks one value a call returned.
func expect[T comparable](call string, want, got T) error {
	if want != got {
		return fmt.Errorf("%s: expected %#v, got %#v", call, want, got)
	}
	return nil
}

// expectOK checks that a call succeeded and returned want.
func expectOK[T comparable](call string, err error, want, got T) error {
	if err != nil {
		return failed(call, err)
	}
	return expect(call, want, got)
}

// listedReplies is the most replies an error quotes in full; a longer list's error names its
// first difference instead.
const listedReplies = 10

// expectList checks the whole sequence of values a stream returned.
func expectList(call string, want, got []string) error {
	if slices.Equal(want, got) {
		return nil
	}
	if len(want) <= listedReplies && len(got) <= listedReplies {
		return fmt.Errorf("%s: expected %d replies %q, got %d %q", call, len(want), want, len(got), got)
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	return fmt.Errorf("%s: expected %d replies, got %d; reply %d: expected %s, got %s",
		call, len(want), len(got), i+1, replyAt(want, i), replyAt(got, i))
}

// replyAt quotes list[i], or says there is none.
func replyAt(list []string, i int) string {
	if i < len(list) {
		return fmt.Sprintf("%q", list[i])
	}
	return "none"
}

// failed describes a call that should have succeeded.
func failed(call string, err error) error {
	return fmt.Errorf("%s: expected status OK, got %s", call, describe(err))
}

// expectStatus checks that a call failed with code and, when contains is not empty, with a
// message containing it.
func expectStatus(call string, err error, code codes.Code, contains string) error {
	if err == nil {
		return fmt.Errorf("%s: expected status %s, got OK", call, code)
	}
	s := status.Convert(err)
	if s.Code() != code || !strings.Contains(s.Message(), contains) {
		want := code.String()
		if contains != "" {
			want += fmt.Sprintf(" with a message containing %q", contains)
		}
		return fmt.Errorf("%s: expected status %s, got %s", call, want, describe(err))
	}
	return nil
}

func describe(err error) string {
	s := status.Convert(err)
	return fmt.Sprintf("%s %q", s.Code(), s.Message())
}

// expectIncludes checks that got includes every value of want, in any order, among others.
func expectIncludes(call string, want, got []string) error {
	var missing []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: missing %q (expected %q among them, got %q)", call, missing, want, got)
	}
	return nil
}
