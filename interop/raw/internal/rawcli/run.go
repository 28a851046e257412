package rawcli

import (
	"fmt"
	"io"
	"log"
	"os"
)

// Main runs run, a program, with the process's arguments and standard streams, and exits
// with the status it returns.
func Main(run func(args []string, stdout, stderr io.Writer) int) {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Start begins a run of the program name ("raw server"): it reads args with parse and returns
// what parse made of them with the program's log, on stderr, every line prefixed "NAME: ".
// Bad flags are one line on stderr, "NAME: why", and ok false: the program then exits 2.
func Start[C any](name string, args []string, stderr io.Writer, parse func([]string) (C, error)) (cfg C, logger *log.Logger, ok bool) {
	cfg, err := parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return cfg, nil, false
	}
	return cfg, log.New(stderr, name+": ", 0), true
}
