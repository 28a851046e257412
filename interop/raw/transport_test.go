package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/net/http2"

	"interopraw/internal/rawtest"
)

// The tests here call the server with golang.org/x/net/http2's own client Transport, over
// h2c and over TLS with ALPN h2.

// h2cTransport speaks HTTP/2 with prior knowledge over plain TCP.
func h2cTransport() *http2.Transport {
	return &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

// grpcPost makes a gRPC-shaped request (one empty message) whose scenario is doc (nil: none).
func grpcPost(t *testing.T, rt http.RoundTripper, url string, doc any) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rawtest.HangGuard)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/interop.raw.Raw/Call", bytes.NewReader([]byte{0, 0, 0, 0, 0}))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("content-type", "application/grpc")
	req.Header.Set("te", "trailers")
	if doc != nil {
		req.Header.Set(scriptHeader, encodeDoc(doc))
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func wantHeader(t *testing.T, h http.Header, name, want string) {
	t.Helper()
	if got := h.Values(name); len(got) != 1 || got[0] != want {
		t.Errorf("%s: %q, want %q", name, got, want)
	}
}

func TestTransportH2C(t *testing.T) {
	url := "http://" + startServer(t, false)
	rt := h2cTransport()
	defer rt.CloseIdleConnections()

	resp, body := grpcPost(t, rt, url, scenario(
		headersAction(rawtest.Fields(":status", "200", "content-type", "application/grpc", "x-custom", "custom value"), false),
		map[string]any{"message": "0a03616263", "frame_size": 2},
		headersAction(rawtest.Fields("grpc-status", "0", "grpc-message", "fine"), true),
	))
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("status %d over HTTP/%d, want 200 over HTTP/2", resp.StatusCode, resp.ProtoMajor)
	}
	wantHeader(t, resp.Header, "x-custom", "custom value")
	if want := []byte{0, 0, 0, 0, 5, 0x0a, 3, 'a', 'b', 'c'}; !bytes.Equal(body, want) {
		t.Errorf("body %x, want %x", body, want)
	}
	wantHeader(t, resp.Trailer, "grpc-status", "0")
	wantHeader(t, resp.Trailer, "grpc-message", "fine")

	// A request with no scenario: trailers-only INTERNAL, on the same connection.
	resp, body = grpcPost(t, rt, url, nil)
	wantHeader(t, resp.Header, "grpc-status", "13")
	wantHeader(t, resp.Header, "grpc-message", "raw: the request has no x-raw-response-bin header")
	if len(body) != 0 {
		t.Errorf("body %x, want none", body)
	}
}

func TestTransportSeesRSTStream(t *testing.T) {
	url := "http://" + startServer(t, false)
	rt := h2cTransport()
	defer rt.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), rawtest.HangGuard)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/x", nil)
	req.Header.Set(scriptHeader, encodeDoc(scenario(map[string]any{"rst_stream": 2})))
	_, err := rt.RoundTrip(req)
	var se http2.StreamError
	if !errors.As(err, &se) || se.Code != http2.ErrCodeInternal {
		t.Errorf("RoundTrip: %v, want a stream error INTERNAL_ERROR", err)
	}
}

// clientTLSConfig trusts certs/ca.pem and expects the name of certs/server.pem, with ALPN h2.
func clientTLSConfig(t *testing.T) *tls.Config {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(rawtest.RepoRoot(t), "certs/ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("certs/ca.pem holds no certificate")
	}
	return &tls.Config{RootCAs: pool, ServerName: "foo.test.google.fr", NextProtos: []string{"h2"}}
}

// tlsServer serves TLS with certs/server.pem in this process.
func tlsServer(t *testing.T) (addr string, client *tls.Config) {
	t.Helper()
	root := rawtest.RepoRoot(t)
	cert, err := tls.LoadX509KeyPair(filepath.Join(root, "certs/server.pem"), filepath.Join(root, "certs/server.key"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}}, false, testLogger(t))
	go srv.serve(ln)
	t.Cleanup(srv.close)
	return ln.Addr().String(), clientTLSConfig(t)
}

func TestTLSWithALPN(t *testing.T) {
	addr, clientConfig := tlsServer(t)
	rt := &http2.Transport{TLSClientConfig: clientConfig}
	defer rt.CloseIdleConnections()
	resp, body := grpcPost(t, rt, "https://"+addr, scenario(
		headersAction(okHeaders, false),
		map[string]any{"message": ""},
		headersAction(okTrailers, true),
	))
	if resp.TLS == nil || resp.TLS.NegotiatedProtocol != "h2" {
		t.Fatalf("TLS state %+v, want ALPN h2", resp.TLS)
	}
	if !bytes.Equal(body, []byte{0, 0, 0, 0, 0}) {
		t.Errorf("body %x", body)
	}
	wantHeader(t, resp.Trailer, "grpc-status", "0")

	// The certificate also names 127.0.0.1; the framer client sees the frames over TLS too.
	nc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: clientConfig.RootCAs, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := nc.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN %q, want h2", p)
	}
	c := handshake(t, nc)
	id := c.call(scenario(headersAction(okHeaders, false), map[string]any{"rst_stream": 8}))
	evs := c.until(id)
	wantCount(t, evs, 2)
	if evs[1].Type != http2.FrameRSTStream || evs[1].Code != http2.ErrCodeCancel {
		t.Errorf("got %+v, want RST_STREAM CANCEL", evs[1])
	}
}
