package client

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	cfg, err := ParseFlags([]string{
		"--server_host=127.0.0.1", "--server_port=50051", "--test_case=greeter_say_hello,stream_bidi",
		"--use_tls=false", "--use_test_ca=true", "--server_host_override=foo.test.google.fr", "--rpc_timeout_ms=250",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Target.Host != "127.0.0.1" || cfg.Target.Port != 50051 || cfg.Target.RPCTimeout != 250*time.Millisecond ||
		!slices.Equal(cfg.Cases, []string{"greeter_say_hello", "stream_bidi"}) {
		t.Errorf("ParseFlags = %+v", cfg)
	}
	if cfg.Target.Creds != nil || cfg.Target.NoCancel || cfg.Target.NoChecks {
		t.Errorf("--use_tls=false: %+v", cfg.Target)
	}
	if cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=a"}); err != nil || cfg.Target.RPCTimeout != 5*time.Second {
		t.Errorf("default --rpc_timeout_ms: %+v, %v", cfg, err)
	}
	if cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=a", "--client_fault=no-cancel"}); err != nil || !cfg.Target.NoCancel || cfg.Target.NoChecks {
		t.Errorf("--client_fault=no-cancel: %+v, %v", cfg, err)
	}
	if cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=a", "--client_fault=no-checks"}); err != nil || !cfg.Target.NoChecks || cfg.Target.NoCancel || cfg.Target.WithCertificate {
		t.Errorf("--client_fault=no-checks: %+v, %v", cfg, err)
	}
	// scripted-lenient is for the generic executor only: the old cases' Target has no fault.
	if cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=a", "--client_fault=scripted-lenient"}); err != nil || !cfg.ScriptedLenient ||
		cfg.Target.NoChecks || cfg.Target.NoCancel || cfg.Target.WithCertificate {
		t.Errorf("--client_fault=scripted-lenient: %+v, %v", cfg, err)
	}
	if cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=a", "--client_fault=no-checks"}); err != nil || cfg.ScriptedLenient || cfg.ScriptedLimitsIgnored {
		t.Errorf("--client_fault=no-checks sets a scripted fault: %+v, %v", cfg, err)
	}
	// scripted-deadline-ignored and scripted-client-limits-ignored too.
	if cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=a", "--client_fault=scripted-deadline-ignored"}); err != nil || !cfg.ScriptedDeadlineIgnored ||
		cfg.ScriptedLimitsIgnored || cfg.ScriptedLenient || cfg.Target.NoChecks || cfg.Target.NoCancel || cfg.Target.WithCertificate {
		t.Errorf("--client_fault=scripted-deadline-ignored: %+v, %v", cfg, err)
	}
	if cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=a", "--client_fault=scripted-client-limits-ignored"}); err != nil || !cfg.ScriptedLimitsIgnored ||
		cfg.ScriptedServerNameIgnored || cfg.ScriptedLenient || cfg.Target.NoChecks || cfg.Target.NoCancel || cfg.Target.WithCertificate {
		t.Errorf("--client_fault=scripted-client-limits-ignored: %+v, %v", cfg, err)
	}
	if cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=a", "--client_fault=scripted-server-name-ignored"}); err != nil || !cfg.ScriptedServerNameIgnored ||
		cfg.ScriptedLimitsIgnored || cfg.ScriptedDeadlineIgnored || cfg.ScriptedLenient || cfg.Target.NoChecks || cfg.Target.NoCancel || cfg.Target.WithCertificate {
		t.Errorf("--client_fault=scripted-server-name-ignored: %+v, %v", cfg, err)
	}
	for fault, set := range map[string]func(Config) bool{
		"scripted-target-ignored":    func(c Config) bool { return c.ScriptedTargetIgnored && !c.ScriptedAuthorityIgnored },
		"scripted-authority-ignored": func(c Config) bool { return c.ScriptedAuthorityIgnored && !c.ScriptedTargetIgnored },
	} {
		if cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=a", "--client_fault=" + fault}); err != nil || !set(cfg) ||
			cfg.ScriptedServerNameIgnored || cfg.ScriptedLimitsIgnored || cfg.ScriptedLenient || cfg.Target.NoChecks || cfg.Target.NoCancel {
			t.Errorf("--client_fault=%s: %+v, %v", fault, cfg, err)
		}
	}
	if cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=a", "--server_unix_socket=/tmp/x/server.sock"}); err != nil || cfg.ServerUnixSocket != "/tmp/x/server.sock" {
		t.Errorf("--server_unix_socket: %+v, %v", cfg, err)
	}
	if cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=a"}); err != nil || cfg.ServerUnixSocket != "" || cfg.ScriptedTargetIgnored || cfg.ScriptedAuthorityIgnored {
		t.Errorf("no --server_unix_socket, no fault: %+v, %v", cfg, err)
	}
}

func TestParseCasesFile(t *testing.T) {
	cfg, err := ParseFlags([]string{"--server_port=1", "--test_case=unary_values,greeter_say_hello", "--cases_file=test/fixtures/scripted-sample.json"})
	if err != nil || cfg.Scripted["unary_values"] == nil || cfg.Scripted["greeter_say_hello"] != nil {
		t.Errorf("--cases_file: %+v, %v", cfg, err)
	}
}

func TestParseBenchFlags(t *testing.T) {
	cfg, err := ParseFlags([]string{"--server_port=1", "--bench=server_streaming,unary"})
	want := Load{Calls: 2000, Warmup: 200, Messages: 20000, Size: 16, TimeLimit: 20 * time.Second}
	if err != nil || cfg.Cases != nil || !slices.Equal(cfg.Bench, []string{"server_streaming", "unary"}) || cfg.Load != want {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = ParseFlags([]string{"--server_port=1", "--bench=unary", "--bench_calls=50", "--bench_warmup=0",
		"--bench_messages=500", "--bench_size=0", "--bench_time_limit_ms=300", "--rpc_timeout_ms=250", "--use_tls=true"})
	want = Load{Calls: 50, Messages: 500, TimeLimit: 300 * time.Millisecond}
	if err != nil || cfg.Load != want || cfg.Target.RPCTimeout != 250*time.Millisecond || cfg.Target.Creds == nil {
		t.Errorf("given: %+v, %v", cfg, err)
	}
}

func TestTLSFlags(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		serverName string
	}{
		{[]string{"--use_tls=true", "--use_test_ca=true", "--server_host_override=foo.test.google.fr"}, "foo.test.google.fr"},
		{[]string{"--use_tls=true", "--use_test_ca=true", "--server_host_override=foo.test.google.fr",
			"--client_cert_file=certs/client.pem", "--client_key_file=certs/client.key"}, "foo.test.google.fr"},
		{[]string{"--use_tls=true", "--use_test_ca=true", "--server_host=localhost"}, "localhost"},
		{[]string{"--use_tls=true"}, "127.0.0.1"}, // the system roots
	} {
		cfg, err := ParseFlags(append([]string{"--server_port=1", "--test_case=a"}, tc.args...))
		if err != nil || cfg.Target.Creds == nil || cfg.Target.Creds.Info().ServerName != tc.serverName ||
			cfg.Target.Creds.Info().SecurityProtocol != "tls" {
			t.Errorf("%q: %+v, %v; want TLS credentials for %s", tc.args, cfg.Target, err, tc.serverName)
		}
	}
}

func TestParseFlagsRejects(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--test_case=a"}, "--server_port is required"},
		{[]string{"--server_port=70000", "--test_case=a"}, "--server_port"},
		{[]string{"--server_port=1"}, "--test_case (or --bench)"},
		{[]string{"--server_port=1", "--test_case=a,,b"}, "--test_case"},
		{[]string{"--server_port=1", "--test_case=a", "--server_host="}, "--server_host"},
		{[]string{"--server_port=1", "--test_case=a", "--server_unix_socket="}, "--server_unix_socket must not be empty"},
		{[]string{"--server_port=1", "--test_case=a", "--client_fault=nope"}, `unknown --client_fault "nope" (known: no-cancel, with-certificate, no-checks, scripted-lenient, scripted-deadline-ignored, scripted-server-name-ignored, scripted-target-ignored, scripted-authority-ignored, scripted-client-limits-ignored)`},
		{[]string{"--server_port=1", "--test_case=a", "--use_tls=true", "--client_cert_file=certs/client.pem"}, "--client_key_file"},
		{[]string{"--server_port=1", "--test_case=a", "--client_cert_file=certs/client.pem", "--client_key_file=certs/client.key"}, "needs --use_tls=true"},
		{[]string{"--server_port=1", "--test_case=a", "--use_tls=true", "--use_test_ca=true", "--ca_file=certs/nope.pem"}, "nope.pem"},
		{[]string{"--server_port=1", "--test_case=a", "--use_tls=true", "--client_cert_file=certs/client.pem", "--client_key_file=certs/server.key"}, "private key does not match"},
		{[]string{"--server_port=1", "--test_case=a", "--rpc_timeout_ms=0"}, "--rpc_timeout_ms"},
		{[]string{"--server_port=x", "--test_case=a"}, "server_port"},
		{[]string{"--server_port=1", "--test_case=a", "--bogus=1"}, "bogus"},
		{[]string{"--server_port=1", "--test_case=a", "stray"}, `unexpected argument "stray"`},
		{[]string{"--server_port=1", "--bench=nope"}, `unknown --bench measurement "nope" (known: unary, server_streaming)`},
		{[]string{"--server_port=1", "--bench=unary,"}, `unknown --bench measurement ""`},
		{[]string{"--server_port=1", "--bench="}, `unknown --bench measurement ""`},
		{[]string{"--server_port=1", "--bench=unary", "--test_case=a"}, "--bench and --test_case exclude each other"},
		{[]string{"--server_port=1", "--bench=unary", "--bench_calls=0"}, "--bench_calls must be in 1..10000000, got 0"},
		{[]string{"--server_port=1", "--bench=unary", "--bench_warmup=-1"}, "--bench_warmup"},
		{[]string{"--server_port=1", "--bench=unary", "--bench_messages=0"}, "--bench_messages"},
		{[]string{"--server_port=1", "--bench=unary", "--bench_size=-1"}, "--bench_size"},
		{[]string{"--server_port=1", "--bench=unary", "--bench_time_limit_ms=0"}, "--bench_time_limit_ms"},
		{[]string{"--server_port=1", "--test_case=a", "--cases_file=test/fixtures/nope.json"}, "--cases_file"},
		{[]string{"--server_port=1", "--test_case=a", "--cases_file=go.mod"}, "--cases_file"},
	} {
		_, err := ParseFlags(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseFlags(%q) error = %v, want one line containing %q", tc.args, err, tc.want)
		}
	}
}
