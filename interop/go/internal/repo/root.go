// Package repo finds the repository root, against which the default paths of the contract
// (certs/ca.pem, certs/server.pem, …) are resolved.
package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// isRoot reports whether dir is the repository root: it holds protos/ and package.json.
func isRoot(dir string) bool {
	protos, err := os.Stat(filepath.Join(dir, "protos"))
	if err != nil || !protos.IsDir() {
		return false
	}
	pkg, err := os.Stat(filepath.Join(dir, "package.json"))
	return err == nil && pkg.Mode().IsRegular()
}

// rootAbove returns the first directory from dir upwards that is the repository root.
func rootAbove(dir string) (string, bool) {
	for {
		if isRoot(dir) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Root returns the repository root: the first directory holding protos/ and package.json
// found walking up from the executable's directory, then from the working directory.
func Root() (string, error) {
	var starts []string
	if exe, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		starts = append(starts, filepath.Dir(exe))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, start := range starts {
		if root, ok := rootAbove(start); ok {
			return root, nil
		}
	}
	return "", fmt.Errorf("no repository root (a directory with protos/ and package.json) above %q", starts)
}

// InRoot returns the path of a file given relative to the repository root: a default path of
// the contract, such as certs/ca.pem.
func InRoot(rel string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", fmt.Errorf("%s: %w", rel, err)
	}
	return filepath.Join(root, rel), nil
}

// Resolve returns an absolute path for a file named on the command line: an absolute path as
// it is; a relative one against the working directory if the file is there, else against the
// repository root (so that `certs/ca.pem` works from any directory).
func Resolve(path string) (string, error) {
	if path == "" {
		return "", errors.New("empty path")
	}
	if filepath.IsAbs(path) {
		return path, nil
	}
	if _, err := os.Stat(path); err == nil {
		return filepath.Abs(path)
	}
	root, err := Root()
	if err != nil {
		return "", fmt.Errorf("%s: not found in the working directory, and %w", path, err)
	}
	return filepath.Join(root, path), nil
}

// FlagPath resolves the value of a file flag: a default (given false) against the
// repository root, a path given on the command line as Resolve does.
func FlagPath(value string, given bool) (string, error) {
	if given {
		return Resolve(value)
	}
	return InRoot(value)
}
