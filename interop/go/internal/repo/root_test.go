package repo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootHoldsTheCerts(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"certs/ca.pem", "certs/server.pem", "protos", "package.json"} {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("root %s: %v", root, err)
		}
	}
}

func TestResolve(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	// The tests run in interop/go/internal/repo, where certs/ca.pem does not exist.
	if got, err := Resolve("certs/ca.pem"); err != nil || got != filepath.Join(root, "certs/ca.pem") {
		t.Errorf("Resolve(certs/ca.pem) = %q, %v", got, err)
	}
	wd, _ := os.Getwd()
	if got, err := Resolve("root.go"); err != nil || got != filepath.Join(wd, "root.go") {
		t.Errorf("Resolve(root.go) = %q, %v; want the working directory's file", got, err)
	}
	if got, err := Resolve("/etc/hostname"); err != nil || got != "/etc/hostname" {
		t.Errorf("Resolve(/etc/hostname) = %q, %v", got, err)
	}
	if got, err := InRoot("certs/ca.pem"); err != nil || got != filepath.Join(root, "certs/ca.pem") {
		t.Errorf("InRoot(certs/ca.pem) = %q, %v", got, err)
	}
	if got, err := FlagPath("certs/ca.pem", false); err != nil || got != filepath.Join(root, "certs/ca.pem") {
		t.Errorf("FlagPath(certs/ca.pem, default) = %q, %v", got, err)
	}
	if got, err := FlagPath("root.go", true); err != nil || got != filepath.Join(wd, "root.go") {
		t.Errorf("FlagPath(root.go, given) = %q, %v", got, err)
	}
	if _, err := Resolve(""); err == nil {
		t.Error("Resolve(\"\") accepted an empty path")
	}
}

func TestRootAboveStopsAtTheFilesystemRoot(t *testing.T) {
	if dir, ok := rootAbove(t.TempDir()); ok {
		t.Errorf("rootAbove(a temporary directory) = %q", dir)
	}
}
