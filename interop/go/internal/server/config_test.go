package server

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"interopmatrix/internal/faults"
	"interopmatrix/internal/repo"
	"interopmatrix/internal/tlscreds"
)

func TestParseFlags(t *testing.T) {
	cfg, err := ParseFlags([]string{"--port=0", "--workers=4", "--fault=again-wrong,bidi-buffered", "--use_tls=false"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "127.0.0.1" || cfg.Port != 0 || cfg.Workers != 4 || cfg.ParentPID != 0 ||
		!cfg.Faults.Has(faults.AgainWrong) || !cfg.Faults.Has(faults.BidiBuffered) || len(cfg.Faults) != 2 {
		t.Errorf("ParseFlags = %+v", cfg)
	}
	if !cfg.reusePort() || cfg.extraWorkers() != 3 {
		t.Errorf("--workers=4: reusePort %v, extraWorkers %d", cfg.reusePort(), cfg.extraWorkers())
	}
	if cfg, err = ParseFlags([]string{"-port", "50051", "-host", "127.0.0.2"}); err != nil || cfg.Port != 50051 || cfg.Host != "127.0.0.2" {
		t.Errorf("single-dash flags: %+v, %v", cfg, err)
	}
}

func TestSingleWorkerFaultIgnoresWorkers(t *testing.T) {
	cfg, err := ParseFlags([]string{"--port=0", "--workers=4", "--fault=single-worker"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.extraWorkers() != 0 || cfg.reusePort() {
		t.Errorf("single-worker: extraWorkers %d, reusePort %v", cfg.extraWorkers(), cfg.reusePort())
	}
}

func TestWorkerFlag(t *testing.T) {
	cfg, err := ParseFlags([]string{"--port=1234", "--worker_parent=42"})
	if err != nil || cfg.ParentPID != 42 || cfg.extraWorkers() != 0 || !cfg.reusePort() {
		t.Errorf("worker: %+v, %v", cfg, err)
	}
}

func TestParseFlagsRejects(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--port is required"},
		{[]string{"--port=-2"}, "--port"},
		{[]string{"--port=65536"}, "--port"},
		{[]string{"--port=abc"}, "port"},
		{[]string{"--port=0", "--host="}, "--host"},
		{[]string{"--port=0", "--workers=0"}, "--workers"},
		{[]string{"--port=0", "--workers=65"}, "--workers"},
		{[]string{"--port=0", "--fault=nope"}, `unknown fault "nope"`},
		{[]string{"--port=0", "--require_client_cert=true"}, "--require_client_cert=true needs --use_tls=true"},
		{[]string{"--port=0", "--use_tls=true", "--tls_cert_file=/nonexistent/server.pem"}, "/nonexistent/server.pem"},
		{[]string{"--port=0", "--use_tls=true", "--tls_key_file=certs/client.key"}, "private key does not match"},
		{[]string{"--port=0", "--use_tls=true", "--require_client_cert=true", "--client_ca_file=certs/nope.pem"}, "nope.pem"},
		{[]string{"--port=0", "--use_tls=maybe"}, "use_tls"},
		{[]string{"--port=0", "--nope"}, "nope"},
		{[]string{"--port=0", "extra"}, `unexpected argument "extra"`},
		{[]string{"--port=0", "--workers=2", "--worker_parent=1"}, "--worker_parent"},
		{[]string{"--port=0", "--max_receive_message_length=-1"}, "--max_receive_message_length must be in 0..2147483647"},
		{[]string{"--port=0", "--max_receive_message_length=2147483648"}, "--max_receive_message_length"},
		{[]string{"--port=0", "--max_receive_message_length=4MiB"}, "max_receive_message_length"},
		{[]string{"--port=0", "--max_send_message_length=-5"}, "--max_send_message_length must be in 0..2147483647"},
		{[]string{"--port=0", "--max_send_message_length=1.5"}, "max_send_message_length"},
		{[]string{"--port=0", "--max_send_message_length="}, "max_send_message_length"},
		{[]string{"--port=0", "--ipv6_loopback=true", "--workers=2"}, "--ipv6_loopback does not go with --workers (got --workers=2)"},
		{[]string{"--port=0", "--workers=4", "--unix_socket=/tmp/s.sock"}, "--unix_socket does not go with --workers (got --workers=4)"},
		{[]string{"--port=0", "--workers=4", "--fault=single-worker", "--ipv6_loopback"}, "--ipv6_loopback does not go with --workers"},
		{[]string{"--port=0", "--unix_socket="}, "--unix_socket must not be empty"},
		{[]string{"--port=0", "--second_host=127.0.0.2", "--workers=2"}, "--second_host does not go with --workers (got --workers=2)"},
		{[]string{"--port=0", "--workers=4", "--fault=single-worker", "--second_host=127.0.0.2"}, "--second_host does not go with --workers"},
		{[]string{"--port=0", "--second_host="}, `--second_host must be an IPv4 address (e.g. 127.0.0.2), got ""`},
		{[]string{"--port=0", "--second_host=localhost"}, `--second_host must be an IPv4 address (e.g. 127.0.0.2), got "localhost"`},
		{[]string{"--port=0", "--second_host=::1"}, "--second_host must be an IPv4 address"},
		{[]string{"--port=0", "--second_host=127.0.0.2:5000"}, "--second_host must be an IPv4 address"},
		{[]string{"--port=0", "--ipv6_loopback=yes"}, "ipv6_loopback"},
		{[]string{"--port=0", "--max_concurrent_streams=-1"}, "--max_concurrent_streams must be in 0..2147483647, got -1"},
		{[]string{"--port=0", "--max_connection_age_ms=2147483648"}, "--max_connection_age_ms must be in 0..2147483647"},
		{[]string{"--port=0", "--max_connection_age_grace_ms=1s"}, "max_connection_age_grace_ms"},
		{[]string{"--port=0", "--max_connection_idle_ms="}, "max_connection_idle_ms"},
		{[]string{"--port=0", "--keepalive_time_ms=-1"}, "--keepalive_time_ms must be in 0..2147483647"},
		{[]string{"--port=0", "--keepalive_timeout_ms=1.5"}, "keepalive_timeout_ms"},
		{[]string{"--port=0", "--keepalive_min_time_ms=-1"}, "--keepalive_min_time_ms must be in 0..2147483647"},
		{[]string{"--port=0", "--keepalive_permit_without_calls=yes"}, "keepalive_permit_without_calls"},
	} {
		_, err := ParseFlags(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseFlags(%q) error = %v, want one line containing %q", tc.args, err, tc.want)
		}
	}
}

func TestTLSFlags(t *testing.T) {
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseFlags([]string{"--port=0", "--use_tls=false", "--tls_cert_file=ignored.pem"})
	if err != nil || cfg.TLS != nil {
		t.Errorf("--use_tls=false: %+v, %v", cfg.TLS, err)
	}
	if creds, err := cfg.credentials(); err != nil || creds.Info().SecurityProtocol != "insecure" {
		t.Errorf("insecure credentials: %v, %v", creds, err)
	}
	cfg, err = ParseFlags([]string{"--port=0", "--use_tls=true"})
	if err != nil || *cfg.TLS != (tlscreds.Server{CertFile: filepath.Join(root, "certs/server.pem"), KeyFile: filepath.Join(root, "certs/server.key")}) {
		t.Errorf("--use_tls=true: %+v, %v", cfg.TLS, err)
	}
	cfg, err = ParseFlags([]string{"--port=0", "--use_tls=true", "--require_client_cert=true"})
	if err != nil || !cfg.TLS.RequireClientCert || cfg.TLS.ClientCAFile != filepath.Join(root, "certs/ca.pem") {
		t.Errorf("--require_client_cert=true: %+v, %v", cfg.TLS, err)
	}
	if creds, err := cfg.credentials(); err != nil || creds.Info().SecurityProtocol != "tls" {
		t.Errorf("TLS credentials: %v, %v", creds, err)
	}
	// A worker gets the same setup.
	worker, err := ParseFlags(slices.Concat([]string{"--port=1", "--worker_parent=1"}, cfg.tlsArgs()))
	if err != nil || *worker.TLS != *cfg.TLS {
		t.Errorf("a worker's TLS setup: %+v, %v; want %+v", worker.TLS, err, cfg.TLS)
	}
	if got := (Config{}).tlsArgs(); !slices.Equal(got, []string{"--use_tls=false"}) {
		t.Errorf("insecure worker flags %q", got)
	}
}

// TestMessageLimitFlags: --max_receive_message_length and --max_send_message_length become
// grpc.MaxRecvMsgSize and grpc.MaxSendMsgSize, and go to the workers; absent, grpc-go's
// defaults stay (no option).
func TestMessageLimitFlags(t *testing.T) {
	cfg, err := ParseFlags([]string{"--port=0", "--max_receive_message_length=1000", "--max_send_message_length=0"})
	if err != nil || cfg.MaxReceive == nil || *cfg.MaxReceive != 1000 || cfg.MaxSend == nil || *cfg.MaxSend != 0 {
		t.Fatalf("ParseFlags = %+v, %v", cfg, err)
	}
	if n := len(cfg.limitOptions()); n != 2 {
		t.Errorf("%d server options, want 2", n)
	}
	want := []string{"--max_receive_message_length=1000", "--max_send_message_length=0"}
	if got := cfg.limitArgs(); !slices.Equal(got, want) {
		t.Errorf("worker flags %q, want %q", got, want)
	}
	worker, err := ParseFlags(slices.Concat([]string{"--port=1", "--worker_parent=1"}, cfg.limitArgs()))
	if err != nil || *worker.MaxReceive != 1000 || *worker.MaxSend != 0 {
		t.Errorf("a worker's limits: %+v, %v", worker, err)
	}
	cfg, err = ParseFlags([]string{"--port=0", "--max_send_message_length=2147483647"})
	if err != nil || cfg.MaxReceive != nil || *cfg.MaxSend != 2147483647 || len(cfg.limitOptions()) != 1 {
		t.Errorf("--max_send_message_length alone: %+v, %v", cfg, err)
	}
	cfg, err = ParseFlags([]string{"--port=0"})
	if err != nil || cfg.MaxReceive != nil || cfg.MaxSend != nil || cfg.limitOptions() != nil || cfg.limitArgs() != nil {
		t.Errorf("no limit flags: %+v, %v", cfg, err)
	}
}

// TestAddressFlags: --ipv6_loopback, --second_host and --unix_socket, with one process
// (--workers=1 too). --second_host takes any IPv4 address: one that cannot be bound fails the
// start-up (listenAll), not the flags.
func TestAddressFlags(t *testing.T) {
	cfg, err := ParseFlags([]string{"--port=0", "--ipv6_loopback=true", "--second_host=127.0.0.2", "--unix_socket=/tmp/x/server.sock", "--workers=1"})
	if err != nil || !cfg.IPv6Loopback || cfg.SecondHost != "127.0.0.2" || cfg.UnixSocket != "/tmp/x/server.sock" {
		t.Errorf("ParseFlags = %+v, %v", cfg, err)
	}
	cfg, err = ParseFlags([]string{"--port=0", "--ipv6_loopback=false", "--workers=3"})
	if err != nil || cfg.IPv6Loopback || cfg.SecondHost != "" || cfg.UnixSocket != "" {
		t.Errorf("--ipv6_loopback=false --workers=3: %+v, %v", cfg, err)
	}
	for _, host := range []string{"127.0.0.1", "192.0.2.1", "127.255.255.254"} {
		if cfg, err = ParseFlags([]string{"--port=0", "--second_host=" + host}); err != nil || cfg.SecondHost != host {
			t.Errorf("--second_host=%s: %+v, %v", host, cfg, err)
		}
	}
}

// TestLifecycleFlags: the lifecycle flags become grpc-go server options (MaxConcurrentStreams,
// one KeepaliveParams for the five durations, one KeepaliveEnforcementPolicy for the min time
// and the permit), only for the flags given, and go to the workers; the zeros and a keepalive
// time under 1 s, which grpc-go does not apply as given, are noted.
func TestLifecycleFlags(t *testing.T) {
	all := []string{"--max_concurrent_streams=1", "--max_connection_age_ms=500", "--max_connection_age_grace_ms=0",
		"--max_connection_idle_ms=300", "--keepalive_time_ms=999", "--keepalive_timeout_ms=2000", "--keepalive_min_time_ms=0",
		"--keepalive_permit_without_calls=true"}
	cfg, err := ParseFlags(append([]string{"--port=0"}, all...))
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.Lifecycle
	if *l.MaxConcurrentStreams != 1 || *l.MaxConnectionAgeMs != 500 || *l.MaxConnectionAgeGraceMs != 0 || *l.MaxConnectionIdleMs != 300 ||
		*l.KeepaliveTimeMs != 999 || *l.KeepaliveTimeoutMs != 2000 || *l.KeepaliveMinTimeMs != 0 || !*l.KeepalivePermitWithoutCalls {
		t.Errorf("ParseFlags = %+v", l)
	}
	if n := len(l.options()); n != 3 {
		t.Errorf("%d server options, want 3", n)
	}
	if got := l.args(); !slices.Equal(got, all) {
		t.Errorf("worker flags %q, want %q", got, all)
	}
	worker, err := ParseFlags(slices.Concat([]string{"--port=1", "--worker_parent=1"}, l.args()))
	if err != nil || !slices.Equal(worker.Lifecycle.args(), all) {
		t.Errorf("a worker's lifecycle: %+v, %v", worker.Lifecycle, err)
	}
	want := []string{
		"--max_connection_age_grace_ms=0: grpc-go takes 0 as its default, an infinite grace",
		"--keepalive_time_ms=999: grpc-go raises a server keepalive time under 1 s to 1 s",
		"--keepalive_min_time_ms=0: grpc-go takes 0 as its default, 5 minutes",
	}
	if got := l.notes(); !slices.Equal(got, want) {
		t.Errorf("notes %q, want %q", got, want)
	}

	for _, tc := range []struct {
		args    []string
		options int
	}{
		{nil, 0},
		{[]string{"--max_concurrent_streams=0"}, 1},
		{[]string{"--keepalive_timeout_ms=20000"}, 1},
		{[]string{"--keepalive_permit_without_calls=false"}, 1},
		{[]string{"--max_concurrent_streams=100", "--keepalive_min_time_ms=1000"}, 2},
	} {
		cfg, err := ParseFlags(append([]string{"--port=0"}, tc.args...))
		if err != nil || len(cfg.Lifecycle.options()) != tc.options || !slices.Equal(cfg.Lifecycle.args(), tc.args) {
			t.Errorf("%q: %d options, worker flags %q, %v", tc.args, len(cfg.Lifecycle.options()), cfg.Lifecycle.args(), err)
		}
	}
}
