package server

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"interopmatrix/internal/services"
)

// serving is the process's gRPC server and what it takes to make it again: the scripted
// service's restart (script.restart_server_after_ms; docs/peer-contract.md, the scripted server's
// "Restart") stops it and, after the downtime, serves the same addresses with a new one made
// exactly like it. What the calls of the scripted service share across servers (active_calls,
// the call records) belongs to the process (internal/scripted), so it survives a restart.
type serving struct {
	// cfg is the command line, with Port the port bound: the one a restart binds again.
	cfg  Config
	opts []grpc.ServerOption
	// failed holds the first failure to serve: an Accept that failed, a restart that could not
	// bind. Serve returns it (the command exits 1).
	failed chan error
	// done is closed once the process stops: a restart under way gives up.
	done chan struct{}

	mu sync.Mutex
	// current is the server that serves, or the one a restart under way stopped.
	current *grpc.Server
	// restarting: a restart is under way (current is stopping, or stopped and not replaced yet).
	restarting bool
	// stopping: the process is stopping (done is closed); nothing restarts any more.
	stopping bool
	// restarts are the restarts under way.
	restarts sync.WaitGroup
}

// newServing is the process's serving for the command line cfg, whose Port is the port bound,
// with the server options opts (credentials, message size limits, lifecycle). It serves nothing
// until serve.
func newServing(cfg Config, opts []grpc.ServerOption) *serving {
	return &serving{cfg: cfg, opts: opts, failed: make(chan error, 1), done: make(chan struct{})}
}

// serve makes a new server with every service (and the faults of the command line), makes it
// the current one and serves listeners with it. It returns false, having closed listeners, once
// the process is stopping.
func (p *serving) serve(listeners []net.Listener) bool {
	var s *grpc.Server
	// The scripted service asks this server's restart: s is set before any call can come.
	s = services.NewServer(p.cfg.Faults, func(after time.Duration, graceful bool) <-chan struct{} {
		return p.restart(s, after, graceful)
	}, p.opts...)
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		for _, lis := range listeners {
			lis.Close()
		}
		return false
	}
	p.current, p.restarting = s, false
	p.mu.Unlock()
	for _, lis := range listeners {
		go func() {
			// nil once s is stopped; ErrServerStopped (lis closed) when the process stopped s
			// before this goroutine got to Serve.
			if err := s.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				p.fail(err)
			}
		}()
	}
	return true
}

// fail records a failure to serve (the first one is kept).
func (p *serving) fail(err error) {
	select {
	case p.failed <- err:
	default:
	}
}

// restart is the scripted service's Restart for the server s: it sets off, in another goroutine,
// s's shutdown (GracefulStop, or Stop when not graceful), then after of downtime, then a new
// server on the same addresses, and returns a channel closed once the shutdown has returned. It
// restarts nothing (and returns nil, after a line on stderr) in a process of --workers (whose
// port the workers share), while another restart is under way or s is no longer the current
// server, or once the process is stopping.
func (p *serving) restart(s *grpc.Server, after time.Duration, graceful bool) <-chan struct{} {
	ms := after.Milliseconds()
	if p.cfg.Workers > 1 || p.cfg.ParentPID != 0 {
		log.Printf("restart_server_after_ms=%d ignored: a process of --workers does not restart", ms)
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.stopping:
		log.Printf("restart_server_after_ms=%d ignored: the server is stopping", ms)
		return nil
	case p.restarting || s != p.current:
		log.Printf("restart_server_after_ms=%d ignored: a restart is under way", ms)
		return nil
	}
	p.restarting = true
	stopped := make(chan struct{})
	p.restarts.Add(1)
	go func() {
		defer p.restarts.Done()
		p.restartAfter(s, after, graceful, stopped)
	}()
	return stopped
}

// restartAfter is a restart under way: it stops s (closing stopped once that has returned),
// waits after, and serves the same addresses again with a new server, unless the process stops
// meanwhile. A bind that fails is a failure to serve: the process exits 1.
func (p *serving) restartAfter(s *grpc.Server, after time.Duration, graceful bool, stopped chan<- struct{}) {
	// GracefulStop stops listening (closing the listeners: a Unix socket's file goes with it),
	// sends GOAWAY on every connection and returns once every call has ended; Stop closes the
	// connections at once, cancelling their calls.
	if graceful {
		log.Printf("restart: stopping gracefully (GracefulStop), then %v of downtime", after)
		s.GracefulStop()
	} else {
		log.Printf("restart: stopping at once (Stop, scripted-shutdown-abrupt), then %v of downtime", after)
		s.Stop()
	}
	close(stopped)
	log.Print("restart: stopped")
	downtime := time.NewTimer(after)
	defer downtime.Stop()
	select {
	case <-downtime.C:
	case <-p.done:
		return
	}
	if err := removeStaleSocket(p.cfg.UnixSocket); err != nil {
		p.fail(fmt.Errorf("restart: --unix_socket: %w", err))
		return
	}
	listeners, _, err := p.cfg.listenAll()
	if err != nil {
		p.fail(fmt.Errorf("restart: %w", err))
		return
	}
	addresses := make([]string, len(listeners))
	for i, lis := range listeners {
		addresses[i] = lis.Addr().String()
	}
	if p.serve(listeners) {
		log.Printf("restart: serving again on %s", strings.Join(addresses, ", "))
	}
}

// removeStaleSocket removes the Unix domain socket at path left by the server before ("" for
// none), so that it can be bound again. grpc-go's stop closes its listeners and Go removes a
// socket's file when its listener closes (net.UnixListener.Close), so normally there is none. A
// file there that is not a socket stays: the bind then fails.
func removeStaleSocket(path string) error {
	if path == "" {
		return nil
	}
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || info.Mode().Type() != fs.ModeSocket {
		return err
	}
	return os.Remove(path)
}

// stop stops whichever server is current with halt (stopGracefully, or (*grpc.Server).Stop) and
// waits for a restart under way to give up. Nothing restarts after it.
func (p *serving) stop(halt func(*grpc.Server)) {
	p.mu.Lock()
	if !p.stopping {
		p.stopping = true
		close(p.done)
	}
	s := p.current
	p.mu.Unlock()
	if s != nil {
		halt(s)
	}
	p.restarts.Wait()
}
