// Package versions holds one module file per extra grpc-go release the Go peer is built against
// (bash interop/go/build.sh --version=V uses V/go.mod and V/go.sum; README.md). This test fails
// when a versioned build would pick up another grpc-go than its folder names, or stops compiling.
package versions

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var versionName = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

func TestEveryVersionSelectsItsGRPCAndCompiles(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go tool: %v", err)
	}
	here, err := os.Getwd() // interop/go/versions
	if err != nil {
		t.Fatal(err)
	}
	module := filepath.Dir(here) // interop/go, where ./... is the peer
	entries, err := os.ReadDir(here)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		version := e.Name()
		found++
		t.Run(version, func(t *testing.T) {
			if !versionName.MatchString(version) {
				t.Fatalf("folder %q: name it after the exact grpc-go version, e.g. 1.64.1", version)
			}
			modfile := filepath.Join(here, version, "go.mod")
			for _, f := range []string{modfile, filepath.Join(here, version, "go.sum")} {
				if _, err := os.Stat(f); err != nil {
					t.Fatalf("%v", err)
				}
			}
			// -mod=readonly (the default) also fails when go.mod or go.sum would need an update.
			list := exec.Command(goTool, "list", "-modfile="+modfile, "-m", "-f", "{{.Version}}", "google.golang.org/grpc")
			list.Dir = module
			out, err := list.CombinedOutput()
			if err != nil {
				t.Fatalf("go list -modfile=%s -m google.golang.org/grpc: %v\n%s", modfile, err, out)
			}
			if got := strings.TrimSpace(string(out)); got != "v"+version {
				t.Errorf("versions/%s/go.mod selects google.golang.org/grpc %s, want v%s (a requirement pulls it up through minimal version selection: pin it lower)", version, got, version)
			}
			// vet type-checks every package and test of the peer against this grpc-go.
			vet := exec.Command(goTool, "vet", "-modfile="+modfile, "./...")
			vet.Dir = module
			if out, err := vet.CombinedOutput(); err != nil {
				t.Errorf("go vet -modfile=%s ./...: %v\n%s", modfile, err, out)
			}
		})
	}
	if found == 0 {
		t.Fatal("no version folders under interop/go/versions")
	}
}
