// Command server is the "raw" peer: a gRPC server written directly on HTTP/2 frames
// (golang.org/x/net/http2's Framer and hpack, no gRPC library) that answers each call with
// the frames its request asks for, so that a case can send clients what no gRPC library
// would: headers in any order or case, lying length prefixes, RST_STREAM, GOAWAY, a dropped
// connection. README.md describes the flags and the action format.
package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"interopraw/internal/rawcli"
)

// faultWellBehaved makes the server ignore x-raw-response-bin and answer every call like a
// correct gRPC server (the runner's self-test of the raw cases).
const faultWellBehaved = "raw-well-behaved"

const usage = "usage: server --port=P [--host=127.0.0.1] [--use_tls=false] " +
	"[--tls_cert_file=certs/server.pem] [--tls_key_file=certs/server.key] [--fault=" + faultWellBehaved + "]"

type config struct {
	host        string
	port        int
	useTLS      bool
	certFile    string
	keyFile     string
	wellBehaved bool
}

func main() { rawcli.Main(run) }

// run is the whole program: it returns the exit status (0 after SIGTERM or SIGINT, 1 when the
// server cannot start, 2 for bad flags).
func run(args []string, stdout, stderr io.Writer) int {
	cfg, logger, ok := rawcli.Start("raw server", args, stderr, parseFlags)
	if !ok {
		return 2
	}

	var tlsConfig *tls.Config
	if cfg.useTLS {
		cert, err := tls.LoadX509KeyPair(cfg.certFile, cfg.keyFile)
		if err != nil {
			logger.Printf("cannot load the TLS key pair: %v", err)
			return 1
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}}
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port)))
	if err != nil {
		logger.Printf("cannot listen: %v", err)
		return 1
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)

	srv := newServer(tlsConfig, cfg.wellBehaved, logger)
	served := make(chan error, 1)
	go func() { served <- srv.serve(ln) }()

	// One write of the whole line; os.Stdout is unbuffered, so it is out when this returns.
	fmt.Fprintf(stdout, "{\"event\":\"listening\",\"port\":%d}\n", ln.Addr().(*net.TCPAddr).Port)

	select {
	case <-signals:
		srv.close()
		return 0
	case err := <-served:
		logger.Printf("stopped accepting: %v", err)
		srv.close()
		return 1
	}
}

func parseFlags(args []string) (config, error) {
	fs := rawcli.NewFlagSet("server")
	port := fs.String("port", "", "")
	host := fs.String("host", "127.0.0.1", "")
	useTLS := fs.Bool("use_tls", false, "")
	certFile := fs.String("tls_cert_file", "certs/server.pem", "")
	keyFile := fs.String("tls_key_file", "certs/server.key", "")
	fault := fs.String("fault", "", "")
	if err := rawcli.Parse(fs, args, usage); err != nil {
		return config{}, err
	}
	cfg := config{host: *host, useTLS: *useTLS, certFile: *certFile, keyFile: *keyFile}
	var err error
	if cfg.port, err = rawcli.Port("--port", *port, 0, usage); err != nil {
		return config{}, err
	}
	if cfg.host == "" {
		return config{}, errors.New("--host is empty")
	}
	if cfg.useTLS && (cfg.certFile == "" || cfg.keyFile == "") {
		return config{}, errors.New("--use_tls=true needs --tls_cert_file and --tls_key_file")
	}
	if cfg.wellBehaved, err = rawcli.Fault(*fault, faultWellBehaved, "fault", "server"); err != nil {
		return config{}, err
	}
	return cfg, nil
}
