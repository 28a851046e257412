// Package rawcli is the command-line handling the raw server and the raw client share: Go's
// flags, read so that a bad invocation is one line naming what is wrong.
package rawcli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// NewFlagSet returns an empty flag set that prints nothing: its errors come back from Parse.
func NewFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// Parse parses args into fs. A help flag is the error usage; a bad flag is "why (usage)"; an
// argument is `unexpected argument "x" (usage)`.
func Parse(fs *flag.FlagSet, args []string, usage string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errors.New(usage)
		}
		return fmt.Errorf("%v (%s)", err, usage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (%s)", fs.Arg(0), usage)
	}
	return nil
}

// Port reads the value of the required port flag name ("--port"): a number from lowest to
// 65535.
func Port(name, value string, lowest int, usage string) (int, error) {
	if value == "" {
		return 0, fmt.Errorf("%s is required (%s)", name, usage)
	}
	p, err := strconv.Atoi(value)
	if err != nil || p < lowest || p > 65535 {
		return 0, fmt.Errorf("%s=%s is not a port number (%d to 65535)", name, value, lowest)
	}
	return p, nil
}

// Fault reads a fault flag, a comma-separated list of names of which the program knows only
// one: true when value names it. Another name is the error `unknown WHAT "x" (this PROGRAM has
// only ONLY)`.
func Fault(value, only, what, program string) (bool, error) {
	if value == "" {
		return false, nil
	}
	for _, name := range strings.Split(value, ",") {
		if name != only {
			return false, fmt.Errorf("unknown %s %q (this %s has only %s)", what, name, program, only)
		}
	}
	return true, nil
}
