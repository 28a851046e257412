package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// inTempDir makes the working directory a fresh one with the contract's cert files.
func inTempDir(t *testing.T) string {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("certs", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ca.pem", "client.pem", "client.key"} {
		if err := os.WriteFile(filepath.Join("certs", name), []byte("pem"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestParseFlagsErrors(t *testing.T) {
	inTempDir(t)
	base := []string{"--tool=grpcurl", "--server_port=1", "--test_case=grpcurl_list"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(base, "--no_such_flag=1"), "flag provided but not defined: -no_such_flag"},
		{append(base, "extra"), `unexpected argument "extra"`},
		{[]string{"--server_port=1", "--test_case=x"}, "--tool is required (grpcurl or grpc-health-probe)"},
		{[]string{"--tool=curl", "--server_port=1", "--test_case=x"}, `unknown --tool "curl"`},
		{[]string{"--tool=grpcurl", "--test_case=x"}, "--server_port is required"},
		{[]string{"--tool=grpcurl", "--server_port=70000", "--test_case=x"}, "--server_port is required, in 1..65535 (got 70000)"},
		{[]string{"--tool=grpcurl", "--server_port=1"}, "--test_case is required"},
		{[]string{"--tool=grpcurl", "--server_port=1", "--test_case=a,,b"}, "--test_case has an empty name"},
		{append(base, "--server_host="), "--server_host must not be empty"},
		{append(base, "--rpc_timeout_ms=0"), "--rpc_timeout_ms must be positive"},
		{append(base, "--rpc_timeout_ms=soon"), "invalid value"},
		{append(base, "--use_tls=maybe"), "invalid boolean value"},
		{append(base, "--client_fault=no-cancel"), `unknown --client_fault "no-cancel" (known: no-checks)`},
		{append(base, "--use_tls=true", "--client_cert_file=certs/client.pem"), "give both or neither"},
		{append(base, "--client_cert_file=certs/client.pem", "--client_key_file=certs/client.key"), "--client_cert_file needs --use_tls=true"},
		{append(base, "--use_tls=true", "--use_test_ca=true", "--ca_file=certs/nope.pem"), "--ca_file: stat"},
		{append(base, "--use_tls=true", "--use_test_ca=true", "--ca_file=certs"), "is not a file"},
		{append(base, "--use_tls=true", "--client_cert_file=certs/client.pem", "--client_key_file=nope.key"), "--client_key_file: stat"},
	} {
		_, err := parseFlags(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseFlags(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("parseFlags(%q): the reason %q is not one line", tc.args, err)
		}
	}
}

func TestParseFlags(t *testing.T) {
	dir := inTempDir(t)
	cfg, err := parseFlags([]string{"--tool=grpc-health-probe", "--server_port=50051", "--test_case=a,b"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.tool.name != "grpc-health-probe" || cfg.host != "127.0.0.1" || cfg.port != 50051 || strings.Join(cfg.cases, "|") != "a|b" ||
		cfg.tls != nil || cfg.timeout != 5*time.Second || cfg.noChecks {
		t.Errorf("defaults: %+v", cfg)
	}
	// --use_test_ca and --server_host_override mean nothing without TLS.
	cfg, err = parseFlags([]string{"--tool=grpcurl", "--server_port=1", "--test_case=a", "--use_test_ca=true", "--server_host_override=x", "--ca_file=nope"})
	if err != nil || cfg.tls != nil {
		t.Errorf("insecure with --use_test_ca: %+v, %v", cfg, err)
	}
	cfg, err = parseFlags([]string{"--tool=grpcurl", "--server_host=::1", "--server_port=1", "--test_case=a", "--rpc_timeout_ms=250", "--client_fault=no-checks",
		"--use_tls=true", "--use_test_ca=true", "--server_host_override=foo.test.google.fr", "--client_cert_file=certs/client.pem", "--client_key_file=certs/client.key"})
	if err != nil {
		t.Fatal(err)
	}
	want := tlsFiles{caFile: filepath.Join(dir, "certs/ca.pem"), serverName: "foo.test.google.fr", certFile: filepath.Join(dir, "certs/client.pem"), keyFile: filepath.Join(dir, "certs/client.key")}
	if cfg.tls == nil || *cfg.tls != want || cfg.host != "::1" || cfg.timeout != 250*time.Millisecond || !cfg.noChecks {
		t.Errorf("mtls: %+v %+v", cfg, cfg.tls)
	}
	// TLS without the test CA: the tools' system roots.
	cfg, err = parseFlags([]string{"--tool=grpcurl", "--server_port=1", "--test_case=a", "--use_tls=true"})
	if err != nil || cfg.tls == nil || *cfg.tls != (tlsFiles{}) {
		t.Errorf("tls with the system roots: %+v, %v", cfg, err)
	}
}
