package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"time"
)

// program runs the cases of one invocation, each on a connection of its own.
type program struct {
	cfg config
	log *log.Logger

	cases    map[string]json.RawMessage // the cases file's instructions by name
	casesErr error                      // the cases file could not be read: every case fails with it
	tls      *tls.Config                // nil without --use_tls
	tlsErr   error                      // the CA file could not be read: every case fails with it

	// dial makes the TCP connection; tests replace it to make writes fail.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newProgram(cfg config, logger *log.Logger) *program {
	p := &program{cfg: cfg, log: logger, dial: (&net.Dialer{}).DialContext}
	if cfg.casesFile != "" {
		p.cases, p.casesErr = readCasesFile(cfg.casesFile)
	}
	if cfg.useTLS {
		p.tls, p.tlsErr = tlsConfig(cfg)
	}
	return p
}

// readCasesFile reads {"cases": {NAME: INSTRUCTION, …}}.
func readCasesFile(path string) (map[string]json.RawMessage, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the cases file: %v", err)
	}
	var file struct {
		Cases map[string]json.RawMessage `json:"cases"`
	}
	if err := json.Unmarshal(doc, &file); err != nil {
		return nil, fmt.Errorf("the cases file %s is not {\"cases\": {…}}: %v", path, err)
	}
	if file.Cases == nil {
		return nil, fmt.Errorf("the cases file %s has no cases object", path)
	}
	return file.Cases, nil
}

// tlsConfig: the server name is --server_host_override, else --server_host; the roots are
// --ca_file's with --use_test_ca, else the system's; ALPN h2.
func tlsConfig(cfg config) (*tls.Config, error) {
	c := &tls.Config{ServerName: cfg.host, NextProtos: []string{"h2"}}
	if cfg.override != "" {
		c.ServerName = cfg.override
	}
	if cfg.useTestCA {
		pem, err := os.ReadFile(cfg.caFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read --ca_file: %v", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca_file=%s holds no PEM certificate", cfg.caFile)
		}
	}
	return c, nil
}

// runCase runs one case and returns its line.
func (p *program) runCase(name string) caseLine {
	start := time.Now()
	fail := func(why string) caseLine {
		return caseLine{Case: name, Status: "failed", MS: millis(time.Since(start)), Error: why}
	}
	switch {
	case p.casesErr != nil:
		return fail(p.casesErr.Error())
	case p.cfg.casesFile == "":
		return fail("unknown test case: " + name + " (no --cases_file)")
	}
	doc, ok := p.cases[name]
	if !ok {
		return fail("unknown test case: " + name)
	}
	inst, err := parseInstruction(doc, p.cfg.wellBehaved)
	if err != nil {
		return fail(err.Error())
	}
	if p.tlsErr != nil {
		return fail(p.tlsErr.Error())
	}
	actions := inst.actions
	if p.cfg.wellBehaved {
		actions = wellBehavedActions
	}
	timeout := p.cfg.timeout
	if inst.timeout > 0 {
		timeout = inst.timeout
	}
	logger := log.New(p.log.Writer(), p.log.Prefix()+"case "+name+": ", 0)
	rep := p.perform(logger, start.Add(timeout), actions)
	ms := millis(time.Since(start))
	rep.MS = ms
	logger.Printf("done in %v ms: end %s", ms, rep.End)
	return caseLine{Case: name, Status: "passed", MS: ms, Observed: &observed{Raw: rep}}
}

// authority is what {authority} stands for: --server_host_override, else H:P.
func (p *program) authority() string {
	if p.cfg.override != "" {
		return p.cfg.override
	}
	return net.JoinHostPort(p.cfg.host, strconv.Itoa(p.cfg.port))
}

// scheme is what {scheme} stands for.
func (p *program) scheme() string {
	if p.cfg.useTLS {
		return "https"
	}
	return "http"
}

// connect makes the case's connection, TCP or TLS with ALPN h2, by the deadline of ctx. It
// returns the connection the frames go over and the TCP connection under it.
func (p *program) connect(ctx context.Context, logger *log.Logger) (nc, tcp net.Conn, err error) {
	addr := net.JoinHostPort(p.cfg.host, strconv.Itoa(p.cfg.port))
	tcp, err = p.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to %s: %v", addr, err)
	}
	if p.tls == nil {
		logger.Printf("connected to %s (HTTP/2 with prior knowledge), from %s", addr, tcp.LocalAddr())
		return tcp, tcp, nil
	}
	tc := tls.Client(tcp, p.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		tcp.Close()
		return nil, nil, fmt.Errorf("TLS handshake with %s (server name %q): %v", addr, p.tls.ServerName, err)
	}
	if proto := tc.ConnectionState().NegotiatedProtocol; proto != "h2" {
		tcp.Close()
		return nil, nil, fmt.Errorf("TLS with %s: the server negotiated ALPN %q, not h2", addr, proto)
	}
	logger.Printf("connected to %s over TLS (server name %q, ALPN h2), from %s", addr, p.tls.ServerName, tcp.LocalAddr())
	return tc, tcp, nil
}
