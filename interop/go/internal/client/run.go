package client

import (
	"fmt"
	"io"
	"time"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/result"
)

// Run runs every case of cfg in order, each independently, printing one JSON line per case
// on stdout and each failure's reason on stderr. It returns the exit code: 0 when every case
// passed, 1 otherwise. With cfg.Bench it runs the load mode instead.
func Run(cfg Config, stdout, stderr io.Writer) int {
	if cfg.Bench != nil {
		return runBench(cfg, stdout, stderr)
	}
	code := 0
	for _, name := range cfg.Cases {
		start := time.Now()
		observed, err := cases.RunObserved(name, cfg.Target)
		if err != nil {
			code = 1
			fmt.Fprintf(stderr, "%s: FAILED: %v\n", name, err)
		}
		if werr := result.Write(stdout, result.New(name, time.Since(start), err, observed)); werr != nil {
			fmt.Fprintf(stderr, "writing the result of %s: %v\n", name, werr)
			code = 1
		}
	}
	return code
}
