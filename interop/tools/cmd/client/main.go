// Command client is the tools-as-clients peer's client (docs/peer-contract.md, "Client" and
// "Tools as clients"): for each case it runs the real grpcurl or grpc-health-probe (--tool;
// the binaries sit next to this executable), with the contract's transport mapped to the
// tool's own flags, and checks the tool's exit code and output. One JSON result line per case
// on stdout; what was run and what it printed on stderr.
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
	os.Exit(runner{dir: toolDir(), killMargin: killMargin}.run(cfg, os.Stdout, os.Stderr))
}

// toolDir is the directory of this executable, where build.sh puts the tools.
func toolDir() string {
	exe, err := os.Executable()
	if err != nil {
		return "."
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return filepath.Dir(exe)
}
