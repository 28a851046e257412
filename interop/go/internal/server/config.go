// Package server runs the Go peer's gRPC server: flags, listening (alone or as several
// SO_REUSEPORT workers), the readiness line, and the graceful stop on SIGTERM or SIGINT.
package server

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"

	"google.golang.org/grpc"

	"interopmatrix/internal/cli"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/tlscreds"
)

// maxWorkers bounds --workers; the suite uses 4.
const maxWorkers = 64

// Config is the server's command line.
type Config struct {
	Host    string
	Port    int
	Workers int
	Faults  faults.Set
	// MaxReceive and MaxSend are --max_receive_message_length and --max_send_message_length
	// (bytes), nil when absent: grpc-go's defaults (4 MiB to receive, math.MaxInt32 to send).
	MaxReceive, MaxSend *int
	// IPv6Loopback is --ipv6_loopback: the server also listens on [::1] at the port it bound for
	// Host. SecondHost is --second_host: the IPv4 address it also listens on at that port ("" for
	// none; the fault scripted-second-host-ignored ignores it). UnixSocket is --unix_socket: the
	// Unix domain socket it also listens on ("" for none). None goes with --workers.
	IPv6Loopback bool
	SecondHost   string
	UnixSocket   string
	// Lifecycle is the connection lifecycle flags (--max_concurrent_streams, keepalive, …).
	Lifecycle Lifecycle
	// TLS is the TLS setup, nil for an insecure server.
	TLS *tlscreds.Server
	// ParentPID is set (internal flag --worker_parent) in the worker processes a --workers
	// parent starts: the worker serves Port with SO_REUSEPORT and exits if that parent is gone.
	ParentPID int
}

// ParseFlags reads the server's command line (docs/peer-contract.md, "Server").
func ParseFlags(args []string) (Config, error) {
	var cfg Config
	var faultList string
	var transport tlsFlags
	fs := cli.NewFlagSet("server")
	fs.IntVar(&cfg.Port, "port", 0, "port to listen on (required); 0 binds an ephemeral port")
	fs.StringVar(&cfg.Host, "host", "127.0.0.1", "address to bind")
	transport.register(fs)
	fs.IntVar(&cfg.Workers, "workers", 1, "number of processes serving the port (SO_REUSEPORT)")
	maxReceive := fs.Int("max_receive_message_length", 0, "the largest message the server accepts, in bytes (default: grpc-go's, 4 MiB)")
	maxSend := fs.Int("max_send_message_length", 0, "the largest message the server sends, in bytes (default: grpc-go's, unlimited)")
	fs.BoolVar(&cfg.IPv6Loopback, "ipv6_loopback", false, "also listen on [::1] at the port bound for --host (not with --workers)")
	fs.StringVar(&cfg.SecondHost, "second_host", "", "also listen on this IPv4 loopback address (e.g. 127.0.0.2) at the port bound for --host (not with --workers)")
	fs.StringVar(&cfg.UnixSocket, "unix_socket", "", "also listen on the Unix domain socket at this path (not with --workers)")
	lifecycle := registerLifecycle(fs)
	fs.StringVar(&faultList, "fault", "", "self-test only: comma-separated fault names")
	fs.IntVar(&cfg.ParentPID, "worker_parent", 0, "internal: run as a worker of the --workers parent with this pid")
	if err := cli.Parse(fs, args); err != nil {
		return Config{}, err
	}
	var err error
	if cfg.Faults, err = faults.Parse(faultList); err != nil {
		return Config{}, err
	}
	switch {
	case !cli.IsSet(fs, "port"):
		return Config{}, errors.New("--port is required")
	case cfg.Port < 0 || cfg.Port > 65535:
		return Config{}, fmt.Errorf("--port must be in 0..65535, got %d", cfg.Port)
	case cfg.Host == "":
		return Config{}, errors.New("--host must not be empty")
	case cfg.Workers < 1 || cfg.Workers > maxWorkers:
		return Config{}, fmt.Errorf("--workers must be in 1..%d, got %d", maxWorkers, cfg.Workers)
	case cfg.ParentPID < 0 || (cfg.ParentPID > 0 && cfg.Workers != 1):
		return Config{}, errors.New("--worker_parent is internal: it takes a pid and no --workers")
	case cli.IsSet(fs, "unix_socket") && cfg.UnixSocket == "":
		return Config{}, errors.New("--unix_socket must not be empty")
	// An IPv4 address that cannot be bound (another machine's, --host itself) is not a bad flag
	// but a start-up failure: listenAll says why, and the command exits 1.
	case cli.IsSet(fs, "second_host") && !isIPv4(cfg.SecondHost):
		return Config{}, fmt.Errorf("--second_host must be an IPv4 address (e.g. 127.0.0.2), got %q", cfg.SecondHost)
	// The workers serve the TCP port alone: an address beside it would be served by one process.
	case cfg.IPv6Loopback && cfg.Workers > 1:
		return Config{}, fmt.Errorf("--ipv6_loopback does not go with --workers (got --workers=%d)", cfg.Workers)
	case cfg.SecondHost != "" && cfg.Workers > 1:
		return Config{}, fmt.Errorf("--second_host does not go with --workers (got --workers=%d)", cfg.Workers)
	case cfg.UnixSocket != "" && cfg.Workers > 1:
		return Config{}, fmt.Errorf("--unix_socket does not go with --workers (got --workers=%d)", cfg.Workers)
	}
	for _, limit := range []struct {
		name  string
		value *int
		dest  **int
	}{{"max_receive_message_length", maxReceive, &cfg.MaxReceive}, {"max_send_message_length", maxSend, &cfg.MaxSend}} {
		if !cli.IsSet(fs, limit.name) {
			continue
		}
		if *limit.value < 0 || *limit.value > math.MaxInt32 {
			return Config{}, fmt.Errorf("--%s must be in 0..%d, got %d", limit.name, math.MaxInt32, *limit.value)
		}
		*limit.dest = limit.value
	}
	if cfg.Lifecycle, err = lifecycle(); err != nil {
		return Config{}, err
	}
	if cfg.TLS, err = transport.resolve(fs); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// isIPv4 reports whether text is an IPv4 address in dotted decimal.
func isIPv4(text string) bool {
	addr, err := netip.ParseAddr(text)
	return err == nil && addr.Is4()
}

// limitOptions are the server options of --max_receive_message_length and
// --max_send_message_length, for every service (the fault scripted-limits-ignored overrides
// them: services.NewServer).
func (c Config) limitOptions() []grpc.ServerOption {
	var opts []grpc.ServerOption
	if c.MaxReceive != nil {
		opts = append(opts, grpc.MaxRecvMsgSize(*c.MaxReceive))
	}
	if c.MaxSend != nil {
		opts = append(opts, grpc.MaxSendMsgSize(*c.MaxSend))
	}
	return opts
}

// limitArgs renders the message size limits as the flags that give them to a worker.
func (c Config) limitArgs() []string {
	var args []string
	if c.MaxReceive != nil {
		args = append(args, "--max_receive_message_length="+strconv.Itoa(*c.MaxReceive))
	}
	if c.MaxSend != nil {
		args = append(args, "--max_send_message_length="+strconv.Itoa(*c.MaxSend))
	}
	return args
}

// extraWorkers is how many worker processes to start besides this one.
func (c Config) extraWorkers() int {
	if c.Faults.Has(faults.SingleWorker) {
		return 0
	}
	return c.Workers - 1
}

// reusePort tells whether the port is shared between processes.
func (c Config) reusePort() bool {
	return c.extraWorkers() > 0 || c.ParentPID != 0
}
