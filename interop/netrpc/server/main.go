// The net/rpc peer's server (docs/peer-contract.md, "The netrpc suite"): the reference
// document's Panda service, exactly as it was written (panda.go), registered with Go's net/rpc
// and served over HTTP (rpc.HandleHTTP, gob over HTTP CONNECT, and /panda) and over JSON-RPC 1.0
// (net/rpc/jsonrpc) on the same port: each connection goes to one or the other by its first byte
// (demux.go). Standard library only.
//
//	server --port=P [--use_tls=false] [--fault=NAME[,NAME…]]
//
// It listens on 127.0.0.1 only and prints {"event":"listening","port":P} on stdout once it
// accepts connections; SIGTERM or SIGINT closes the listener and it exits 0; bad flags exit 2
// with a one-line reason on stderr.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/rpc"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// config is what the flags say.
type config struct {
	port   int
	faults faultSet
}

// parseFlags reads the flags; the error is the one-line reason for exit 2.
func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	port := fs.String("port", "", "port to listen on (0: any free port)")
	useTLS := fs.Bool("use_tls", false, "must be false: TLS is not part of net/rpc")
	faultList := fs.String("fault", "", "self-test only: comma-separated faults")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, errors.New("usage: server --port=P [--use_tls=false] [--fault=NAME[,NAME…]]")
		}
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *useTLS {
		return config{}, errors.New("TLS is not part of net/rpc (the reference document serves plain TCP): --use_tls=true is not supported")
	}
	if *port == "" {
		return config{}, errors.New("--port is required")
	}
	p, err := strconv.Atoi(*port)
	if err != nil || p < 0 || p > 65535 {
		return config{}, fmt.Errorf("--port=%s: not a port number", *port)
	}
	faults, err := parseFaults(*faultList)
	if err != nil {
		return config{}, err
	}
	return config{port: p, faults: faults}, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args)
	if err != nil {
		fmt.Fprintf(stderr, "netrpc: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return 2
	}
	faults = cfg.faults

	// The reference document's main(), as written (http.Serve on the listener), but for the
	// listener: 127.0.0.1 at the port given, and the connections of the JSON-RPC side taken
	// off it first.
	http.HandleFunc("/panda", pandatext)
	pd := new(Panda)
	if faults[faultUnknownMethodOK] {
		rpc.RegisterName("Panda", new(pandaNope))
	} else {
		rpc.Register(pd)
	}
	rpc.HandleHTTP()

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.port)))
	if err != nil {
		fmt.Fprintf(stderr, "netrpc: %v\n", err)
		return 1
	}
	httpLn := demux(ln, serveJSONRPC)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- http.Serve(httpLn, nil) }()

	fmt.Fprintf(stdout, "{\"event\":\"listening\",\"port\":%d}\n", ln.Addr().(*net.TCPAddr).Port)
	select {
	case <-signals:
		ln.Close()
		return 0
	case err := <-served:
		fmt.Fprintf(stderr, "netrpc: %v\n", err)
		return 1
	}
}

// faultNames is every fault --fault takes (faults.go).
var faultNames = []string{faultReplyPlusTwo, faultReplyFloat64, faultReplySaturate, faultPandaText, faultUnknownMethodOK, faultIDsSwapped, faultParamsCoerced}

func parseFaults(list string) (faultSet, error) {
	set := faultSet{}
	if list == "" {
		return set, nil
	}
	for _, name := range strings.Split(list, ",") {
		if !slices.Contains(faultNames, name) {
			return nil, fmt.Errorf("--fault: unknown fault %q (known: %s)", name, strings.Join(faultNames, ", "))
		}
		set[name] = true
	}
	return set, nil
}
