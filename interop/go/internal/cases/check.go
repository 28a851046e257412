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

// expectList checks the whole sequence of values a stream returned.
func expectList(call string, want, got []string) error {
	if !slices.Equal(want, got) {
		return fmt.Errorf("%s: expected %d replies %q, got %d %q", call, len(want), want, len(got), got)
	}
	return nil
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
