package main

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/http2"

	"interopraw/internal/rawtest"
)

// The tests here run the client against golang.org/x/net/http2's own Server, over h2c (prior
// knowledge: ServeConn on the TCP connection) and over TLS with ALPN h2.

// seen is what the server's handler received.
type seen struct {
	method, path, host string
	header             http.Header
	body               []byte
	tls                bool
}

// grpcHandler answers like a gRPC server (headers, one message "ok", trailers grpc-status 0)
// and records each request.
type grpcHandler struct {
	mu   sync.Mutex
	reqs []seen
}

func (h *grpcHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.reqs = append(h.reqs, seen{method: r.Method, path: r.URL.Path, host: r.Host, header: r.Header.Clone(), body: body, tls: r.TLS != nil})
	h.mu.Unlock()
	w.Header().Set("content-type", "application/grpc")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte{0, 0, 0, 0, 2, 'o', 'k'})
	w.(http.Flusher).Flush()
	w.Header().Set(http.TrailerPrefix+"grpc-status", "0")
}

// only returns the one request the handler received.
func (h *grpcHandler) only(t *testing.T) seen {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.reqs) != 1 {
		t.Fatalf("the server received %d requests, want 1", len(h.reqs))
	}
	return h.reqs[0]
}

// startH2 serves h with http2.Server on a loopback port (TLS with certs/server.pem when
// tlsConfig is not nil) and returns the port.
func startH2(t *testing.T, h http.Handler, tlsConfig *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http2.Server{}
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[nc] = true
			mu.Unlock()
			go func() {
				defer nc.Close()
				var c net.Conn = nc
				if tlsConfig != nil {
					tc := tls.Server(nc, tlsConfig)
					if tc.Handshake() != nil {
						return
					}
					c = tc
				}
				srv.ServeConn(c, &http2.ServeConnOpts{Handler: h})
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for nc := range conns {
			nc.Close()
		}
	})
	return portOf(ln.Addr().String())
}

// serverTLS is the TLS configuration of a server with certs/server.pem, ALPN h2.
func serverTLS(t *testing.T, protos ...string) *tls.Config {
	t.Helper()
	root := rawtest.RepoRoot(t)
	cert, err := tls.LoadX509KeyPair(filepath.Join(root, "certs/server.pem"), filepath.Join(root, "certs/server.key"))
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: protos}
}

// grpcRequest is a unary call with one message, the placeholders in its headers.
func grpcRequest() map[string]any {
	return rawCase(0,
		headersAction(false, ":method", "POST", ":scheme", "{scheme}", ":path", "/interop.scripted.Scripted/Unary",
			":authority", "{authority}", "content-type", "application/grpc", "te", "trailers", "x-both", "{scheme}://{authority}"),
		map[string]any{"message": "0a03616263", "length": 100, "frame_size": 4, "end_stream": true})
}

// wantOK checks the report of grpcHandler's answer.
func wantOK(t *testing.T, r result) {
	t.Helper()
	raw := r.Observed.Raw
	wantJSON(t, "http_status", raw["http_status"], `"200"`)
	wantJSON(t, "messages", raw["messages"], `[{"compressed":false,"hex":"6f6b"}]`)
	wantJSON(t, "trailers", raw["trailers"], `[["grpc-status","0"]]`)
	wantJSON(t, "end", raw["end"], `"end_stream"`)
	if h, _ := raw["headers"].([]any); len(h) == 0 {
		t.Errorf("headers %v", raw["headers"])
	} else {
		wantJSON(t, "first header", h[0], `[":status","200"]`)
		if !strings.Contains(r.line, `["content-type","application/grpc"]`) {
			t.Errorf("no content-type in %s", r.line)
		}
	}
}

func wantSeen(t *testing.T, got seen, host, scheme string) {
	t.Helper()
	if got.method != "POST" || got.path != "/interop.scripted.Scripted/Unary" || got.host != host ||
		got.header.Get("content-type") != "application/grpc" || got.header.Get("te") != "trailers" ||
		got.header.Get("x-both") != scheme+"://"+host || got.tls != (scheme == "https") {
		t.Errorf("the server saw %+v; want POST /interop.scripted.Scripted/Unary to %s over %s", got, host, scheme)
	}
	if want := []byte{0, 0, 0, 0, 100, 0x0a, 3, 'a', 'b', 'c'}; !bytes.Equal(got.body, want) {
		t.Errorf("the server received %x, want %x", got.body, want)
	}
}

func TestH2C(t *testing.T) {
	t.Run("authority", func(t *testing.T) {
		h := &grpcHandler{}
		port := startH2(t, h, nil)
		wantOK(t, runCase(t, port, grpcRequest()))
		wantSeen(t, h.only(t), "127.0.0.1:"+port, "http")
	})
	t.Run("override", func(t *testing.T) {
		h := &grpcHandler{}
		port := startH2(t, h, nil)
		wantOK(t, runCase(t, port, grpcRequest(), "--server_host_override=foo.test.google.fr"))
		wantSeen(t, h.only(t), "foo.test.google.fr", "http")
	})
}

// http2.Server refuses an uppercase header name with RST_STREAM PROTOCOL_ERROR: the client
// sent it as given.
func TestH2CUppercaseName(t *testing.T) {
	h := &grpcHandler{}
	r := runCase(t, startH2(t, h, nil), rawCase(0, headersAction(true, ":method", "POST", ":scheme", "http",
		":path", "/x", ":authority", "{authority}", "Content-Type", "application/grpc")))
	wantRaw(t, r, `{"rst_stream":1,"end":"rst_stream"}`)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.reqs) != 0 {
		t.Errorf("the handler ran: %+v", h.reqs)
	}
}

func TestTLS(t *testing.T) {
	ca := filepath.Join(rawtest.RepoRoot(t), "certs/ca.pem")
	t.Run("override", func(t *testing.T) {
		h := &grpcHandler{}
		port := startH2(t, h, serverTLS(t, "h2"))
		wantOK(t, runCase(t, port, grpcRequest(), "--use_tls", "--use_test_ca", "--ca_file="+ca, "--server_host_override=foo.test.google.fr"))
		wantSeen(t, h.only(t), "foo.test.google.fr", "https")
	})
	t.Run("host name", func(t *testing.T) {
		h := &grpcHandler{}
		port := startH2(t, h, serverTLS(t, "h2"))
		wantOK(t, runCase(t, port, grpcRequest(), "--use_tls=true", "--use_test_ca=true", "--ca_file="+ca))
		wantSeen(t, h.only(t), "127.0.0.1:"+port, "https")
	})
	for _, c := range []struct {
		name  string
		flags []string
		why   string
	}{
		{"wrong name", []string{"--use_test_ca", "--ca_file=" + ca, "--server_host_override=wrong.example.com"}, "certificate is valid for"},
		{"system roots", []string{"--server_host_override=foo.test.google.fr"}, "certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := &grpcHandler{}
			r := runCase(t, startH2(t, h, serverTLS(t, "h2")), grpcRequest(), append([]string{"--use_tls"}, c.flags...)...)
			if r.Observed.Raw["end"] != "connect_failed" || !strings.Contains(r.Observed.Raw["error"].(string), c.why) {
				t.Errorf("got %s, want connect_failed: %s", r.line, c.why)
			}
		})
	}
	t.Run("no ALPN", func(t *testing.T) {
		r := runCase(t, startH2(t, &grpcHandler{}, serverTLS(t)), grpcRequest(), "--use_tls", "--use_test_ca", "--ca_file="+ca)
		if r.Observed.Raw["end"] != "connect_failed" || !strings.Contains(r.Observed.Raw["error"].(string), `ALPN "", not h2`) {
			t.Errorf("got %s, want connect_failed for the ALPN", r.line)
		}
	})
	t.Run("no CA file", func(t *testing.T) {
		args := []string{"--server_port=1", "--test_case=c", "--use_tls", "--use_test_ca", "--ca_file=" + filepath.Join(t.TempDir(), "none.pem"),
			"--cases_file=" + writeCases(t, map[string]any{"c": grpcRequest()})}
		code, lines, _ := runClient(t, args...)
		if code != 1 || len(lines) != 1 || lines[0].Status != "failed" || !strings.Contains(lines[0].Error, "cannot read --ca_file") {
			t.Errorf("exit code %d, lines %+v; want the case failed for the CA file", code, lines)
		}
	})
}

// The fault makes one correct call whatever the case says.
func TestFaultWellBehaved(t *testing.T) {
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			h := &grpcHandler{}
			flags := []string{"--client_fault=raw-client-well-behaved"}
			var tlsConfig *tls.Config
			if scheme == "https" {
				tlsConfig = serverTLS(t, "h2")
				flags = append(flags, "--use_tls", "--use_test_ca", "--ca_file="+filepath.Join(rawtest.RepoRoot(t), "certs/ca.pem"))
			}
			port := startH2(t, h, tlsConfig)
			r := runCase(t, port, map[string]any{"raw_request": map[string]any{"actions": []any{map[string]any{"bogus": 1}}}}, flags...)
			wantOK(t, r)
			got := h.only(t)
			if got.method != "POST" || got.path != "/interop.scripted.Scripted/Unary" || got.host != "127.0.0.1:"+port ||
				got.header.Get("content-type") != "application/grpc" || got.header.Get("te") != "trailers" ||
				!bytes.Equal(got.body, []byte{0, 0, 0, 0, 0}) || got.tls != (scheme == "https") {
				t.Errorf("the server saw %+v, want one correct unary call with an empty message", got)
			}
		})
	}
}
