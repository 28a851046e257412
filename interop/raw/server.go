package main

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"syscall"
	"time"
)

// server accepts connections and serves each one in a goroutine of its own (conn.go).
type server struct {
	tls         *tls.Config // nil: HTTP/2 with prior knowledge (h2c)
	wellBehaved bool
	log         *log.Logger

	mu     sync.Mutex
	closed bool
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newServer(tlsConfig *tls.Config, wellBehaved bool, logger *log.Logger) *server {
	return &server{tls: tlsConfig, wellBehaved: wellBehaved, log: logger, conns: map[net.Conn]struct{}{}}
}

// serve accepts connections on ln until close is called (then it returns nil) or ln fails.
func (s *server) serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ln.Close()
	}
	s.ln = ln
	s.mu.Unlock()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EMFILE) {
				time.Sleep(10 * time.Millisecond) // passing: try again
				continue
			}
			return err
		}
		if !s.track(nc) {
			nc.Close()
			continue
		}
		go s.handle(nc)
	}
}

// close stops accepting and closes every connection at once.
func (s *server) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.ln != nil {
		s.ln.Close()
	}
	for nc := range s.conns {
		nc.Close()
	}
}

func (s *server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[nc] = struct{}{}
	return true
}

func (s *server) handle(nc net.Conn) {
	defer func() {
		nc.Close()
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
	}()
	var c net.Conn = nc
	if s.tls != nil {
		tc := tls.Server(nc, s.tls)
		if err := tc.Handshake(); err != nil {
			// A readiness probe connects and closes without a handshake: not worth a line.
			if !errors.Is(err, io.EOF) && !isClosedConn(err) {
				s.log.Printf("%s: TLS handshake: %v", nc.RemoteAddr(), err)
			}
			return
		}
		c = tc
	}
	newConn(s, c).serve()
}

// isClosedConn tells whether err only says that the peer or this server closed the connection.
func isClosedConn(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
