// Package rawtest is what the tests of the raw server and the raw client share: the bound on
// their waits, the test binary run as the program, a log buffer, header fields, the
// repository root, and the frames a hand-written test peer reads (Frame). Only _test.go
// files import it.
package rawtest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2/hpack"

	"interopraw/internal/rawcli"
)

// HangGuard bounds every wait of the tests; no test depends on how long anything takes.
const HangGuard = 20 * time.Second

// Main is a package's TestMain: with the environment variable env set to 1, the test binary
// is the program itself (run), so that a test can run the program as a process without a
// separate build; otherwise it runs the tests.
func Main(m *testing.M, env string, run func(args []string, stdout, stderr io.Writer) int) {
	if os.Getenv(env) == "1" {
		rawcli.Main(run)
	}
	os.Exit(m.Run())
}

// Buffer collects what a program or a process logs, from any goroutine.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Fields builds header fields from name, value pairs.
func Fields(kv ...string) []hpack.HeaderField {
	var fs []hpack.HeaderField
	for i := 0; i+1 < len(kv); i += 2 {
		fs = append(fs, hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return fs
}

// RepoRoot is the repository root, where certs/ is: the nearest directory above the working
// directory (the package's, under go test) that has certs/server.pem.
func RepoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "certs/server.pem")); err == nil {
			return dir
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no certs/server.pem at the repository root, above the working directory")
		}
		dir = up
	}
}
