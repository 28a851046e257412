// Package versions holds one module file per extra grpc-go release the Go peer is built against
// (bash interop/go/build.sh --version=V uses V/go.mod and V/go.sum; README.md). This test fails
// when a versioned build would pick up another grpc-go than its folder names, or stops compiling.
package versions

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
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

// addRun is one run of bash build.sh --add=version from interop/go.
type addRun struct {
	exit           int // -1 when it did not exit by itself
	stdout, stderr string
}

// runAdd runs bash build.sh --add=version from interop/go, for at most limit (less when the
// test's own deadline is nearer). A run that outlives it is killed and fails the test.
func runAdd(t *testing.T, module, version string, limit time.Duration) addRun {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("no bash: %v", err)
	}
	if deadline, ok := t.Deadline(); ok {
		if left := time.Until(deadline) - 10*time.Second; left < limit {
			limit = max(left, time.Second)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "build.sh", "--add="+version)
	cmd.Dir = module
	cmd.WaitDelay = 5 * time.Second // go children that outlive a killed bash hold the pipes
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	run := addRun{exit: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("bash build.sh --add=%q: still running after %v, killed\nstdout: %s\nstderr: %s", version, limit, run.stdout, run.stderr)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("bash build.sh --add=%q: %v", version, err)
	}
	return run
}

// oneLine reports whether s is exactly one non-empty line ending in a newline.
func oneLine(s string) bool {
	return strings.HasSuffix(s, "\n") && !strings.Contains(strings.TrimSuffix(s, "\n"), "\n") && strings.TrimSpace(s) != ""
}

// TestAddReproducesEveryVersion: bash build.sh --add=V, the README's recipe made automatic,
// rewrites every committed versions/V/go.mod and go.sum byte for byte (as long as
// interop/go/go.mod is the one they were made from). When it does not, the committed files are
// put back so that the tree stays as it was, and the test fails.
func TestAddReproducesEveryVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: build.sh --add asks the Go module proxy")
	}
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	module := filepath.Dir(here)
	entries, err := os.ReadDir(here)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || !versionName.MatchString(e.Name()) {
			continue // TestEveryVersionSelectsItsGRPCAndCompiles reports misnamed folders
		}
		version := e.Name()
		t.Run(version, func(t *testing.T) {
			files := []string{filepath.Join(here, version, "go.mod"), filepath.Join(here, version, "go.sum")}
			committed := make([][]byte, len(files))
			for i, f := range files {
				if committed[i], err = os.ReadFile(f); err != nil {
					t.Fatal(err)
				}
			}
			// Runs before any t.Fatal of runAdd returns: put back what the run changed.
			defer func() {
				for i, f := range files {
					now, err := os.ReadFile(f)
					if err == nil && bytes.Equal(now, committed[i]) {
						continue
					}
					t.Errorf("bash build.sh --add=%s did not reproduce %s byte for byte (put back the committed file)\nwrote:\n%s", version, f, now)
					if err := os.WriteFile(f, committed[i], 0o644); err != nil {
						t.Errorf("putting back %s: %v", f, err)
					}
				}
			}()
			run := runAdd(t, module, version, 3*time.Minute)
			want := "build.sh: pinned grpc-go " + version + " in interop/go/versions/" + version + " (go.mod, go.sum)\n"
			if run.exit != 0 || run.stdout != want {
				t.Fatalf("bash build.sh --add=%s: exit status %d, want 0 and stdout %q\nstdout: %s\nstderr: %s", version, run.exit, want, run.stdout, run.stderr)
			}
			// The folder exists, so build.sh says it refreshed it, in one line.
			if !oneLine(run.stderr) || !strings.Contains(run.stderr, "refreshed") {
				t.Errorf("bash build.sh --add=%s: stderr %q, want one line saying it refreshed the existing folder", version, run.stderr)
			}
		})
	}
}

// TestAddRefuses: a version that is no exact release, older than 1.64.0 or unknown to the Go
// module proxy is refused with exit status 2 and one line on stderr, and nothing is written.
func TestAddRefuses(t *testing.T) {
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	module := filepath.Dir(here)
	listing := func() []string {
		entries, err := os.ReadDir(here)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	before := listing()
	defer func() {
		if after := listing(); !slices.Equal(before, after) {
			t.Errorf("a refused --add changed interop/go/versions: %v, then %v", before, after)
		}
	}()
	cases := []struct {
		version, says string
		network       bool // asks the Go module proxy
	}{
		{"", "not an exact grpc-go release", false},
		{"1.64", "not an exact grpc-go release", false},
		{"v1.64.1", "not an exact grpc-go release", false},
		{"1.64.1-rc.1", "not an exact grpc-go release", false},
		{"1.64.01", "not an exact grpc-go release", false},
		{"1.64.1.0", "not an exact grpc-go release", false},
		{"../1.64.1", "not an exact grpc-go release", false},
		{"1.64.1\n", "not an exact grpc-go release", false},
		{"1. 64.1", "not an exact grpc-go release", false},
		{"1.63.2", "grpc.SupportPackageIsVersion9", false},
		{"0.99.0", "grpc.SupportPackageIsVersion9", false},
		{"1.64.999", "Go module proxy", true},
		{"1.999999999999999999999.0", "Go module proxy", true}, // wider than any integer
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.version, "/", "_"), func(t *testing.T) {
			if c.network && testing.Short() {
				t.Skip("-short: asks the Go module proxy")
			}
			run := runAdd(t, module, c.version, 2*time.Minute)
			if run.exit != 2 || run.stdout != "" || !oneLine(run.stderr) || !strings.Contains(run.stderr, c.says) {
				t.Errorf("bash build.sh --add=%q: exit status %d, stdout %q, stderr %q; want 2, nothing, and one line with %q", c.version, run.exit, run.stdout, run.stderr, c.says)
			}
		})
	}
}
