// Package binarytest builds this module's commands for tests that run them as processes.
package binarytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build builds the command in the current directory (the package directory of the test
// that calls it) into a new temporary directory. It returns the binary's path and a function
// that removes the directory.
func Build(name string) (string, func(), error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", func() {}, fmt.Errorf("no go tool to build %s with: %w", name, err)
	}
	dir, err := os.MkdirTemp("", "interop-go-"+name)
	if err != nil {
		return "", func() {}, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, name)
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		cleanup()
		return "", func() {}, fmt.Errorf("go build %s: %v\n%s", name, err, out)
	}
	return bin, cleanup, nil
}
