package scripted_test

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/scripted"
	"interopmatrix/internal/servertest"
	"interopmatrix/internal/transporttest"
)

// INSTRUCTION's channel.server_name and the client fault scripted-server-name-ignored
// (docs/peer-contract.md, "Client: the generic executor"), against an in-process server with the
// test certificate certs/server.pem: DNS foo.test.google.fr, *.test.google.fr, localhost, IP
// 127.0.0.1 and ::1.

const codeUnavailable = 14

// authorityLog records the :authority of every call a server gets.
func authorityLog() *headerLog {
	return &headerLog{pick: func(h *stats.InHeader) string { return strings.Join(h.Header[":authority"], ",") }}
}

// tlsPeer is a server on a transport (insecure, tls, mtls) and the executor's way to it, made
// as the client's run makes it (internal/client, Run): the client flags of the transport
// (--server_host_override=foo.test.google.fr), the shared channel and the instructions' own
// through cases.Target.
type tlsPeer struct {
	conn        *grpc.ClientConn
	opts        scripted.Options
	authorities *headerLog
}

func newTLSPeer(t *testing.T, transport string, serverNameIgnored bool) *tlsPeer {
	t.Helper()
	seen := authorityLog()
	port := servertest.Start(t, nil, grpc.Creds(transporttest.ServerCreds(t, transport)), grpc.StatsHandler(seen))
	target := cases.Target{Host: "127.0.0.1", Port: port, RPCTimeout: timeout}
	if transport != "insecure" {
		target.Creds = transporttest.ClientCreds(t, transport)
	}
	opts := scripted.Options{ServerNameIgnored: serverNameIgnored, ServerName: target.WithServerName,
		Server: scripted.Server{Host: target.Host, Port: target.Port}, Dial: target.DialTarget}
	conn, err := target.DialWith(opts.SharedDialOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &tlsPeer{conn: conn, opts: opts, authorities: seen}
}

// run runs a unary call on a channel with server_name name (none when name is "") and returns
// the observation.
func (p *tlsPeer) run(t *testing.T, name string) map[string]any {
	t.Helper()
	channel := ""
	if name != "" {
		member, _ := json.Marshal(name)
		channel = `"channel":{"server_name":` + string(member) + `},`
	}
	obs, err := scripted.ExecuteWith(p.conn, json.RawMessage(`{"method":"Unary",`+channel+`"requests":[{"script":{}}]}`), timeout, p.opts)
	if err != nil {
		t.Fatalf("server_name %q: the executor failed: %v", name, err)
	}
	return plain(t, obs)
}

// TestServerName: on tls and mtls the instruction's channel checks the server's certificate
// against server_name, exactly as written, and grpc-go sends it as the authority; a name the
// certificate does not hold fails the call UNAVAILABLE before it reaches the server (a status,
// not an executor failure). The shared channel still uses --server_host_override.
func TestServerName(t *testing.T) {
	for _, transport := range []string{"tls", "mtls"} {
		p := newTLSPeer(t, transport, false)
		for _, c := range []struct {
			name string
			code int
		}{
			{"wrong.example.com", codeUnavailable},
			{"other.test.google.fr", codeOK},                     // *.test.google.fr
			{"a.b.test.google.fr", codeUnavailable},              // a wildcard covers one label
			{"FOO.TEST.GOOGLE.FR", codeOK},                       // DNS names compare without case
			{"127.0.0.1", codeOK},                                // the certificate's IP address
			{"foo.test.google.fr.evil.example", codeUnavailable}, // another domain
			{"localhost", codeOK},
		} {
			o := p.run(t, c.name)
			t.Logf("%s, server_name %q: status %v", transport, c.name, at(o, "status"))
			seen := p.authorities.take()
			if c.code != codeOK {
				expectCode(t, transport+" "+c.name, o, c.code, "authentication handshake failed", "x509: certificate is valid for")
				if len(seen) != 0 || at(o, "responses") != nil || at(o, "request_info") != nil {
					t.Errorf("%s %s: the call reached the server (authorities %q, %v)", transport, c.name, seen, o)
				}
				continue
			}
			expectCode(t, transport+" "+c.name, o, codeOK)
			// The name exactly as written, as the channel's authority (as for the flag).
			if len(seen) != 1 || seen[0] != c.name {
				t.Errorf("%s %s: the server saw the authorities %q, want [%q]", transport, c.name, seen, c.name)
			}
		}
		// The shared channel is untouched: --server_host_override.
		expectCode(t, transport+" shared channel", p.run(t, ""), codeOK)
		if seen := p.authorities.take(); len(seen) != 1 || seen[0] != transporttest.ServerName {
			t.Errorf("%s shared channel: the server saw the authorities %q, want [%q]", transport, seen, transporttest.ServerName)
		}
	}
}

// TestServerNameIgnoredClientFault: under scripted-server-name-ignored every channel checks the
// certificate against --server_host_override, so a wrong server_name succeeds.
func TestServerNameIgnoredClientFault(t *testing.T) {
	p := newTLSPeer(t, "tls", true)
	for _, name := range []string{"wrong.example.com", "a.b.test.google.fr"} {
		expectCode(t, "ignored "+name, p.run(t, name), codeOK)
		if seen := p.authorities.take(); len(seen) != 1 || seen[0] != transporttest.ServerName {
			t.Errorf("ignored %s: the server saw the authorities %q, want [%q]", name, seen, transporttest.ServerName)
		}
	}
	// A malformed server_name is still a broken instruction.
	if _, err := scripted.ExecuteWith(p.conn, json.RawMessage(`{"method":"Unary","channel":{"server_name":""},"requests":[{"script":{}}]}`), timeout, p.opts); err == nil {
		t.Error(`server_name "" ran under the fault`)
	}
}

// TestServerNameOnInsecure: on an insecure transport server_name is ignored: the call succeeds
// with the authority the address gives.
func TestServerNameOnInsecure(t *testing.T) {
	p := newTLSPeer(t, "insecure", false)
	expectCode(t, "insecure, shared", p.run(t, ""), codeOK)
	want := p.authorities.take()
	expectCode(t, "insecure, wrong.example.com", p.run(t, "wrong.example.com"), codeOK)
	if seen := p.authorities.take(); len(want) != 1 || len(seen) != 1 || seen[0] != want[0] || !strings.HasPrefix(seen[0], "127.0.0.1:") {
		t.Errorf("insecure: the server saw the authorities %q, then %q; want the address's", want, seen)
	}
}

// TestServerNameNeedsAWay: an executor given no way to set a server name cannot run an
// instruction with one (unless the fault ignores it).
func TestServerNameNeedsAWay(t *testing.T) {
	p := newTLSPeer(t, "tls", false)
	opts := p.opts
	opts.ServerName = nil
	instruction := json.RawMessage(`{"method":"Unary","channel":{"server_name":"foo.test.google.fr"},"requests":[{"script":{}}]}`)
	if _, err := scripted.ExecuteWith(p.conn, instruction, timeout, opts); err == nil {
		t.Error("server_name ran without Options.ServerName")
	}
	opts.ServerNameIgnored = true
	if obs, err := scripted.ExecuteWith(p.conn, instruction, timeout, opts); err != nil || obs.Status == nil || obs.Status.Code != codeOK {
		t.Errorf("server_name ignored without Options.ServerName: %+v, %v", obs, err)
	}
}
