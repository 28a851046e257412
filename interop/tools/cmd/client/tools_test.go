package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The contract's transports (docs/peer-contract.md, "Transports"), as client flags.
var transports = []struct {
	name string
	args []string
}{
	{"insecure", []string{"--use_tls=false"}},
	{"tls", []string{"--use_tls=true", "--use_test_ca=true", "--server_host_override=foo.test.google.fr"}},
	{"mtls", []string{"--use_tls=true", "--use_test_ca=true", "--server_host_override=foo.test.google.fr", "--client_cert_file=certs/client.pem", "--client_key_file=certs/client.key"}},
}

func TestToolCommands(t *testing.T) {
	dir := inTempDir(t)
	ca, cert, key := filepath.Join(dir, "certs/ca.pem"), filepath.Join(dir, "certs/client.pem"), filepath.Join(dir, "certs/client.key")
	want := map[string]map[string]string{
		"grpcurl": {
			"insecure": "-plaintext -max-time 1.5 -d {} 127.0.0.1:4000 a/B",
			"tls":      fmt.Sprintf("-cacert %s -servername foo.test.google.fr -max-time 1.5 -d {} 127.0.0.1:4000 a/B", ca),
			"mtls":     fmt.Sprintf("-cacert %s -servername foo.test.google.fr -cert %s -key %s -max-time 1.5 -d {} 127.0.0.1:4000 a/B", ca, cert, key),
		},
		"grpc-health-probe": {
			"insecure": "-addr=127.0.0.1:4000 -connect-timeout=1.5s -rpc-timeout=1.5s -d {}",
			"tls":      fmt.Sprintf("-addr=127.0.0.1:4000 -tls -tls-ca-cert=%s -tls-server-name=foo.test.google.fr -connect-timeout=1.5s -rpc-timeout=1.5s -d {}", ca),
			"mtls": fmt.Sprintf("-addr=127.0.0.1:4000 -tls -tls-ca-cert=%s -tls-server-name=foo.test.google.fr -tls-client-cert=%s -tls-client-key=%s -connect-timeout=1.5s -rpc-timeout=1.5s -d {}",
				ca, cert, key),
		},
	}
	for _, tool := range toolNames() {
		for _, tr := range transports {
			cfg, err := parseFlags(append([]string{"--tool=" + tool, "--server_port=4000", "--test_case=x", "--rpc_timeout_ms=1500"}, tr.args...))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(cfg.tool.command(&cfg, invocation{flags: []string{"-d", "{}"}, operands: []string{"a/B"}}), " ")
			if tool == "grpc-health-probe" {
				// grpc-health-probe has no operands: the case's invocations never give any.
				got = strings.Join(cfg.tool.command(&cfg, invocation{flags: []string{"-d", "{}"}}), " ")
			}
			if got != want[tool][tr.name] {
				t.Errorf("%s over %s:\n got %s\nwant %s", tool, tr.name, got, want[tool][tr.name])
			}
		}
	}
}

func TestCommandAddressAndDeadline(t *testing.T) {
	for _, tc := range []struct {
		tool    string
		host    string
		timeout time.Duration
		want    []string
		kill    time.Duration
	}{
		{"grpcurl", "::1", 5 * time.Second, []string{"-max-time", "5", "[::1]:7"}, 5*time.Second + time.Second},
		{"grpcurl", "localhost", 250 * time.Millisecond, []string{"-max-time", "0.25", "localhost:7"}, 1250 * time.Millisecond},
		{"grpc-health-probe", "::1", 5 * time.Second, []string{"-addr=[::1]:7", "-connect-timeout=5s", "-rpc-timeout=5s"}, 11 * time.Second},
		{"grpc-health-probe", "127.0.0.1", 1 * time.Millisecond, []string{"-connect-timeout=1ms", "-rpc-timeout=1ms"}, 1002 * time.Millisecond},
	} {
		cfg := config{tool: toolByName(tc.tool), host: tc.host, port: 7, timeout: tc.timeout}
		got := cfg.tool.command(&cfg, invocation{})
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s %s %v: %q lacks %q", tc.tool, tc.host, tc.timeout, got, w)
			}
		}
		if k := killAfter(&cfg, time.Second); k != tc.kill {
			t.Errorf("%s with %v: killed after %v, want %v", tc.tool, tc.timeout, k, tc.kill)
		}
	}
}

func TestEveryCaseBelongsToOneTool(t *testing.T) {
	want := map[string][]string{
		"grpcurl":           {"grpcurl_call", "grpcurl_describe", "grpcurl_health", "grpcurl_list"},
		"grpc-health-probe": {"health_probe_service", "health_probe_unknown_service"},
	}
	for _, tool := range tools {
		var names []string
		for name, steps := range tool.cases {
			names = append(names, name)
			if len(steps) == 0 {
				t.Errorf("%s: no steps", name)
			}
		}
		slices.Sort(names)
		if !slices.Equal(names, want[tool.name]) {
			t.Errorf("%s's cases: %q, want %q", tool.name, names, want[tool.name])
		}
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"/a/grpcurl", "-d", `{"name":"it's"}`, "127.0.0.1:1", "", "x y"})
	want := `/a/grpcurl -d '{"name":"it'\''s"}' 127.0.0.1:1 '' 'x y'`
	if got != want {
		t.Errorf("shellJoin: %s, want %s", got, want)
	}
}
