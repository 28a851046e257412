// Command client is the h2spec peer's client (docs/peer-contract.md, "Client" and "h2spec"):
// each case is one h2spec test (http2-6.5.3-2 is h2spec's http2/6.5.3/2), run by the real h2spec
// binary beside this executable against the server, one h2spec run per test, several at once;
// the verdict is read from h2spec's JUnit report (-j), never from its text. One JSON result line
// per case on stdout, in the order the tests finish; on stderr, every h2spec command line and
// what it printed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	cfg, err := parseFlags(os.Args[1:])
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		os.Exit(2)
	}
	os.Exit(run(cfg, filepath.Join(exeDir(), "h2spec"), os.Stdout, os.Stderr))
}

// exeDir is the directory of this executable, where build.sh puts h2spec.
func exeDir() string {
	exe, err := os.Executable()
	if err != nil {
		return "."
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return filepath.Dir(exe)
}
