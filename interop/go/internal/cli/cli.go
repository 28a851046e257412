// Package cli holds the command-line conventions the server and the client share: the
// standard flag syntax (--name=value), and a bad flag is one line on stderr and exit code 2.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// NewFlagSet returns a flag set that hands errors back instead of printing usage.
func NewFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// Parse parses args into fs and rejects positional arguments; for -h it prints the flags on
// stderr and returns flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "usage of %s:\n", fs.Name())
		fs.SetOutput(os.Stderr)
		fs.PrintDefaults()
	}
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// IsSet reports whether the command line gave flag name.
func IsSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// ExitOnFlagError returns when err is nil; otherwise it exits: 0 after -h, else 2 with
// the reason on one line of stderr.
func ExitOnFlagError(prog string, err error) {
	switch {
	case err == nil:
		return
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "%s: %v\n", prog, err)
		os.Exit(2)
	}
}
