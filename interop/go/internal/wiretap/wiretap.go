// Package wiretap is a loopback TCP proxy for tests that reads the plaintext HTTP/2 (h2c)
// between a gRPC client and server and records every gRPC message's compressed flag, so
// that tests can check compression on the wire independently of what either library reports.
package wiretap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/net/http2"
)

// Direction is the way a message went.
type Direction int

const (
	ToServer Direction = iota
	ToClient
)

// Message is one gRPC message seen on the wire.
type Message struct {
	Stream     uint32
	Compressed bool // the compressed-flag byte of the gRPC message prefix
	Length     int  // the length in the prefix: the bytes on the wire
}

// Tap records the messages that went through the proxy.
type Tap struct {
	mu       sync.Mutex
	messages map[Direction][]Message
}

// Start proxies an ephemeral 127.0.0.1 port to 127.0.0.1:backend until the test ends, and
// returns the port and the tap.
func Start(tb testing.TB, backend int) (int, *Tap) {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tap := &Tap{messages: map[Direction][]Message{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	tb.Cleanup(func() {
		lis.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			client, err := lis.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(backend)))
			if err != nil {
				client.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, client, server)
			mu.Unlock()
			wg.Go(func() { tap.pipe(client, server, ToServer) })
			wg.Go(func() { tap.pipe(server, client, ToClient) })
		}
	})
	return lis.Addr().(*net.TCPAddr).Port, tap
}

// Messages returns, per stream in the order streams first carried a message, the
// compressed flags of the messages that went one way.
func (t *Tap) Messages(d Direction) [][]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	var order []uint32
	flags := map[uint32][]bool{}
	for _, m := range t.messages[d] {
		if _, seen := flags[m.Stream]; !seen {
			order = append(order, m.Stream)
		}
		flags[m.Stream] = append(flags[m.Stream], m.Compressed)
	}
	out := make([][]bool, len(order))
	for i, id := range order {
		out[i] = flags[id]
	}
	return out
}

// pipe forwards from to to frame by frame, recording each frame's gRPC messages before it
// forwards the frame: a message is on record before the peer can have received it.
func (t *Tap) pipe(from, to net.Conn, d Direction) {
	defer from.Close()
	defer to.Close()
	var raw bytes.Buffer
	r := io.TeeReader(from, &raw) // the framer reads exactly one frame at a time, no more
	forward := func() bool {
		_, err := to.Write(raw.Bytes())
		raw.Reset()
		return err == nil
	}
	if d == ToServer {
		if _, err := io.ReadFull(r, make([]byte, len(http2.ClientPreface))); err != nil || !forward() {
			return
		}
	}
	framer := http2.NewFramer(nil, r)
	framer.SetMaxReadFrameSize(1 << 24)
	pending := map[uint32][]byte{} // per stream: DATA bytes not yet parsed into messages
	for {
		frame, err := framer.ReadFrame()
		if err != nil {
			var streamErr http2.StreamError
			if !errors.As(err, &streamErr) {
				forward()
				io.Copy(to, from) // not HTTP/2 as expected: pass the rest on unread
				return
			}
		}
		if data, ok := frame.(*http2.DataFrame); ok {
			pending[data.StreamID] = t.record(d, data.StreamID, append(pending[data.StreamID], data.Data()...))
		}
		if !forward() {
			return
		}
	}
}

// record records the whole gRPC messages at the start of buf and returns the rest.
func (t *Tap) record(d Direction, stream uint32, buf []byte) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(buf) >= 5 {
		length := int(binary.BigEndian.Uint32(buf[1:5]))
		if len(buf) < 5+length {
			break
		}
		t.messages[d] = append(t.messages[d], Message{Stream: stream, Compressed: buf[0]&1 == 1, Length: length})
		buf = buf[5+length:]
	}
	return buf
}
