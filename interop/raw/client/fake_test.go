package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"interopraw/internal/rawtest"
)

// The fake server: a hand-written HTTP/2 server on the Framer, for what http2.Server will
// not do. Each test scripts it frame by frame and sees every frame the client sends.

// frame is one thing the client sent: a frame, a whole header block (HEADERS and its
// CONTINUATION frames), or the end of the connection.
type frame = rawtest.Frame

// fakeConn is one connection of the fake server.
type fakeConn struct {
	t    *testing.T
	nc   net.Conn
	fr   *http2.Framer
	enc  *hpack.Encoder
	ebuf bytes.Buffer
	dec  *hpack.Decoder
}

// startFake serves every connection with serve, in a goroutine of its own, and returns the
// port. serve's failures (fatalf) fail the test; the test waits for every serve at its end.
func startFake(t *testing.T, serve func(fc *fakeConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				_ = nc.SetDeadline(time.Now().Add(rawtest.HangGuard))
				fc := &fakeConn{t: t, nc: nc, fr: http2.NewFramer(nc, nc), dec: hpack.NewDecoder(4096, nil)}
				fc.fr.AllowIllegalWrites = true
				fc.enc = hpack.NewEncoder(&fc.ebuf)
				serve(fc)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(rawtest.HangGuard):
			t.Errorf("the fake server's connections did not end in %v", rawtest.HangGuard)
		}
	})
	return portOf(ln.Addr().String())
}

// fatalf fails the test and ends this connection's goroutine.
func (fc *fakeConn) fatalf(format string, args ...any) {
	fc.t.Helper()
	fc.t.Errorf("fake server: "+format, args...)
	fc.nc.Close()
	runtime.Goexit()
}

func (fc *fakeConn) check(err error) {
	fc.t.Helper()
	if err != nil {
		fc.fatalf("%v", err)
	}
}

// handshake reads the client preface and sends the server's SETTINGS.
func (fc *fakeConn) handshake(settings ...http2.Setting) {
	fc.t.Helper()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(fc.nc, preface); err != nil || string(preface) != http2.ClientPreface {
		fc.fatalf("client preface %q, %v", preface, err)
	}
	fc.check(fc.fr.WriteSettings(settings...))
}

// read reads the next frame (a header block whole).
func (fc *fakeConn) read() frame {
	fc.t.Helper()
	f, err := fc.fr.ReadFrame()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			return frame{EOF: true}
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			fc.fatalf("nothing from the client in %v", rawtest.HangGuard)
		}
		return frame{EOF: true, Data: []byte(err.Error())}
	}
	ev, err := rawtest.FrameOf(fc.fr, fc.dec, f)
	fc.check(err)
	return ev
}

// next reads the next frame that is not SETTINGS, WINDOW_UPDATE or a PING ack.
func (fc *fakeConn) next() frame {
	fc.t.Helper()
	for {
		f := fc.read()
		switch {
		case f.Type == http2.FrameSettings && !f.EOF, f.Type == http2.FrameWindowUpdate && !f.EOF,
			f.Type == http2.FramePing && f.Ack && !f.EOF:
			continue
		}
		return f
	}
}

// request reads the client's first header block, on stream 1.
func (fc *fakeConn) request() frame {
	fc.t.Helper()
	f := fc.next()
	if f.EOF || f.Type != http2.FrameHeaders || f.Stream != 1 {
		fc.fatalf("got %+v, want the request HEADERS on stream 1", f)
	}
	return f
}

// goodbye reads the client's closing GOAWAY (with this code) and the end of the connection.
func (fc *fakeConn) goodbye(code http2.ErrCode) {
	fc.t.Helper()
	f := fc.next()
	if f.EOF || f.Type != http2.FrameGoAway || f.Code != code || f.LastID != 0 {
		fc.fatalf("got %+v, want the client's GOAWAY %v with last stream id 0", f, code)
	}
	if f := fc.next(); !f.EOF {
		fc.fatalf("got %+v after the client's GOAWAY, want the end of the connection", f)
	}
}

// block encodes these name, value pairs with the server's encoder.
func (fc *fakeConn) block(kv ...string) []byte {
	fc.ebuf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		fc.check(fc.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]}))
	}
	return append([]byte(nil), fc.ebuf.Bytes()...)
}

// headers sends one header block in one HEADERS frame.
func (fc *fakeConn) headers(stream uint32, endStream bool, kv ...string) {
	fc.t.Helper()
	fc.check(fc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: fc.block(kv...),
		EndStream: endStream, EndHeaders: true}))
}

// okResponse answers stream 1 like a gRPC server: headers, one message, trailers.
func (fc *fakeConn) okResponse(msg []byte) {
	fc.t.Helper()
	fc.headers(1, false, ":status", "200", "content-type", "application/grpc")
	fc.check(fc.fr.WriteData(1, false, append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)))
	fc.headers(1, true, "grpc-status", "0")
}
