package main

import (
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"sync"
)

// demux accepts the connections of ln and sorts each by its first byte: '{' or JSON whitespace
// is a JSON-RPC client, handed to jsonrpc (in a goroutine of its own); anything else goes to the
// returned listener, for http.Serve, with the byte put back in front. A connection is sorted in
// a goroutine of its own, so one that sends nothing holds up nobody. Closing ln (or the returned
// listener) ends it.
func demux(ln net.Listener, jsonRPC func(net.Conn)) net.Listener {
	out := &connListener{addr: ln.Addr(), conns: make(chan net.Conn), done: make(chan struct{}), inner: ln}
	go func() {
		defer out.Close()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				var first [1]byte
				if _, err := conn.Read(first[:]); err != nil {
					conn.Close()
					return
				}
				peeked := &peekedConn{Conn: conn, first: first[0], has: true}
				if isJSONStart(first[0]) {
					jsonRPC(peeked)
					return
				}
				select {
				case out.conns <- peeked:
				case <-out.done:
					conn.Close()
				}
			}()
		}
	}()
	return out
}

// isJSONStart: the first byte of a JSON-RPC request, an object, possibly after JSON whitespace.
func isJSONStart(b byte) bool {
	return b == '{' || b == ' ' || b == '\t' || b == '\n' || b == '\r'
}

// serveJSONRPC serves one JSON-RPC 1.0 connection with net/rpc's DefaultServer (where main
// registered Panda): jsonrpc.ServeConn, or its codec wrapped by the JSON-RPC faults (under
// params-coerced a codec of our own that behaves as jsonrpc's but for the params it coerces).
func serveJSONRPC(conn net.Conn) {
	switch {
	case faults[faultParamsCoerced]:
		rpc.ServeCodec(faultyCodec(newCoercingCodec(conn)))
	case faults[faultUnknownMethodOK] || faults[faultIDsSwapped]:
		rpc.ServeCodec(faultyCodec(jsonrpc.NewServerCodec(conn)))
	default:
		jsonrpc.ServeConn(conn)
	}
}

// peekedConn is a connection whose first byte was read already: Read gives it back first.
type peekedConn struct {
	net.Conn
	mu    sync.Mutex
	first byte
	has   bool
}

func (c *peekedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.has && len(p) > 0 {
		p[0] = c.first
		c.has = false
		c.mu.Unlock()
		return 1, nil
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// connListener is a net.Listener that yields the connections demux hands it.
type connListener struct {
	addr  net.Addr
	conns chan net.Conn
	inner net.Listener
	once  sync.Once
	done  chan struct{}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case conn := <-l.conns:
		return conn, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.inner.Close()
	})
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }
