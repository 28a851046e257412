package scripted_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/scripted"
	"interopmatrix/internal/servertest"
	"interopmatrix/internal/transporttest"
)

// INSTRUCTION's channel.target and channel.authority, the client faults scripted-target-ignored
// and scripted-authority-ignored, and RequestInfo's authority and peer with the server faults
// scripted-peer-ipv4, scripted-authority-dropped and scripted-request-info-empty
// (docs/peer-contract.md), against the Go peer's server started with --ipv6_loopback and
// --unix_socket: one grpc.Server on 127.0.0.1, [::1] and a Unix domain socket.

// addressed is a server listening on 127.0.0.1:port, [::1]:port and the Unix socket, and the
// executor's options to reach it, made as the client's run makes them (internal/client, Run).
type addressed struct {
	port   int
	socket string
	opts   scripted.Options
}

// startAddressed serves with the flags --port=0 --ipv6_loopback=true --unix_socket=PATH (a new
// temporary directory's) and then serverArgs, until the test ends; the executor's channels use
// the client side of transport.
func startAddressed(t *testing.T, transport string, serverArgs ...string) *addressed {
	t.Helper()
	socket := servertest.SocketPath(t)
	args := append([]string{"--port=0", "--ipv6_loopback=true", "--unix_socket=" + socket}, serverArgs...)
	if transport != "insecure" {
		args = append(args, "--use_tls=true")
	}
	target := cases.Target{Host: "127.0.0.1", Port: servertest.Serve(t, args...), RPCTimeout: timeout}
	if transport != "insecure" {
		target.Creds = transporttest.ClientCreds(t, transport)
	}
	return &addressed{port: target.Port, socket: socket, opts: scripted.Options{
		ServerName: target.WithServerName,
		Server:     scripted.Server{Host: target.Host, Port: target.Port, UnixSocket: socket},
		Dial:       target.DialTarget,
	}}
}

// run runs a Unary call on a channel of its own with the members channel (a JSON object's
// members), under opts, and returns the observation.
func (a *addressed) run(t *testing.T, opts scripted.Options, channel string) map[string]any {
	t.Helper()
	// No shared channel: the instruction has its own.
	obs, err := scripted.ExecuteWith(nil, json.RawMessage(`{"method":"Unary","channel":{`+channel+`},"requests":[{"script":{}}]}`), timeout, opts)
	if err != nil {
		t.Fatalf("channel {%s}: the executor failed: %v", channel, err)
	}
	return plain(t, obs)
}

// requestInfo is the RequestInfo of a call that ended OK: its authority and peer ("<none>" when
// absent).
func requestInfo(t *testing.T, what string, o map[string]any) (authority, peer string) {
	t.Helper()
	expectCode(t, what, o, codeOK)
	text := func(name string) string {
		v, ok := at(o, "responses", 0, "request_info", name).(string)
		if !ok {
			return "<none>"
		}
		return v
	}
	return text("authority"), text("peer")
}

// The peers of the three address families, as grpc-go's server names them.
var (
	ipv4Peer = regexp.MustCompile(`^tcp:127\.0\.0\.1:[1-9][0-9]*$`)
	ipv6Peer = regexp.MustCompile(`^tcp:\[::1\]:[1-9][0-9]*$`)
	unixPeer = regexp.MustCompile(`^unix:@$`) // the client's socket has no name
)

// TestChannelTargetReachesEveryAddress: the server answers on its three addresses, each reached
// by grpc-go's own resolvers from channel.target (placeholders replaced); RequestInfo tells the
// family by its peer, and has the authority grpc-go derives from the target, or
// channel.authority.
func TestChannelTargetReachesEveryAddress(t *testing.T) {
	a := startAddressed(t, "insecure")
	if !filepath.IsAbs(a.socket) {
		t.Fatalf("socket %q is not absolute: unix://{unix_socket} would not be unix:///PATH", a.socket)
	}
	port := strconv.Itoa(a.port)
	for _, c := range []struct {
		target, channel string
		authority       string
		peer            *regexp.Regexp
	}{
		{"{host}:{port}", "", "127.0.0.1:" + port, ipv4Peer},
		{"[::1]:{port}", "", "[::1]:" + port, ipv6Peer},
		{"dns:///[::1]:{port}", "", "[::1]:" + port, ipv6Peer},
		{"unix:{unix_socket}", "", "localhost", unixPeer},
		{"unix://{unix_socket}", "", "localhost", unixPeer}, // unix:///PATH
		{"unix:{unix_socket}", `,"authority":"example.com:1234"`, "example.com:1234", unixPeer},
		{"[::1]:{port}", `,"authority":"other.example"`, "other.example", ipv6Peer},
		{"{host}:{port}", `,"authority":"localhost"`, "localhost", ipv4Peer},
	} {
		what := c.target + c.channel
		authority, peer := requestInfo(t, what, a.run(t, a.opts, `"target":"`+c.target+`"`+c.channel))
		t.Logf("%s: authority %q, peer %q", what, authority, peer)
		if authority != c.authority || !c.peer.MatchString(peer) {
			t.Errorf("%s: authority %q, peer %q; want %q, %s", what, authority, peer, c.authority, c.peer)
		}
	}
	// Without target the channel dials --server_host:--server_port, as before.
	if authority, peer := requestInfo(t, "no target", a.run(t, a.opts, `"max_receive_message_length":100000`)); authority != "127.0.0.1:"+port || !ipv4Peer.MatchString(peer) {
		t.Errorf("no target: authority %q, peer %q", authority, peer)
	}
}

// TestIPSchemesAreNotGRPCGos: grpc-go has no resolver for the ipv4: and ipv6: schemes of
// grpc-core and grpc-js. Given untouched, such a target is taken as a DNS name
// (dns:///ipv6:[::1]:PORT) that does not parse: the call never reaches the server, and grpc-go
// says "invalid target address" (as the call's UNAVAILABLE status in grpc-go 1.85; as an error
// without a status, "failed to exit idle mode: …", so a local error, in 1.64 and 1.72).
func TestIPSchemesAreNotGRPCGos(t *testing.T) {
	a := startAddressed(t, "insecure")
	for _, target := range []string{"ipv4:{host}:{port}", "ipv6:[::1]:{port}"} {
		o := a.run(t, a.opts, `"target":"`+target+`"`)
		t.Logf("%s: %v", target, o)
		want := "invalid target address " + strings.NewReplacer("{host}", "127.0.0.1", "{port}", strconv.Itoa(a.port)).Replace(target)
		said, _ := at(o, "local_error").(string)
		if code(o) != -1 {
			expectCode(t, target, o, codeUnavailable)
			said = message(o)
		}
		if !strings.Contains(said, want) || at(o, "responses") != nil {
			t.Errorf("%s: %v; want no call, and %q", target, o, want)
		}
	}
}

// TestTargetAndAuthorityFaults: under scripted-target-ignored every channel dials
// --server_host:--server_port (a target naming {unix_socket} then runs even without
// --server_unix_socket); under scripted-authority-ignored the authority is the target's.
func TestTargetAndAuthorityFaults(t *testing.T) {
	a := startAddressed(t, "insecure")
	const unixWithAuthority = `"target":"unix:{unix_socket}","authority":"example.com"`
	opts := a.opts
	opts.TargetIgnored = true
	authority, peer := requestInfo(t, "target ignored", a.run(t, opts, unixWithAuthority))
	if authority != "example.com" || !ipv4Peer.MatchString(peer) {
		t.Errorf("scripted-target-ignored: authority %q, peer %q; want example.com over 127.0.0.1", authority, peer)
	}
	opts.Server.UnixSocket = ""
	if _, peer := requestInfo(t, "target ignored, no socket", a.run(t, opts, unixWithAuthority)); !ipv4Peer.MatchString(peer) {
		t.Errorf("scripted-target-ignored without --server_unix_socket: peer %q", peer)
	}

	opts = a.opts
	opts.AuthorityIgnored = true
	if authority, peer := requestInfo(t, "authority ignored", a.run(t, opts, unixWithAuthority)); authority != "localhost" || !unixPeer.MatchString(peer) {
		t.Errorf("scripted-authority-ignored: authority %q, peer %q; want localhost over unix", authority, peer)
	}
}

// TestPeerAndAuthorityServerFaults: scripted-peer-ipv4 reports ipv4:127.0.0.1:1 whatever the
// family, scripted-authority-dropped no authority, scripted-request-info-empty neither.
func TestPeerAndAuthorityServerFaults(t *testing.T) {
	none := regexp.MustCompile(`^<none>$`)
	servers := map[string]*addressed{}
	for _, c := range []struct {
		fault, target, authority string
		peer                     *regexp.Regexp
	}{
		{"scripted-peer-ipv4", "unix:{unix_socket}", "localhost", regexp.MustCompile(`^ipv4:127\.0\.0\.1:1$`)},
		{"scripted-peer-ipv4", "[::1]:{port}", "[::1]:{port}", regexp.MustCompile(`^ipv4:127\.0\.0\.1:1$`)},
		{"scripted-authority-dropped", "unix:{unix_socket}", "<none>", unixPeer},
		{"scripted-authority-dropped", "[::1]:{port}", "<none>", ipv6Peer},
		{"scripted-request-info-empty", "unix:{unix_socket}", "<none>", none},
		{"scripted-request-info-empty", "{host}:{port}", "<none>", none},
	} {
		a := servers[c.fault]
		if a == nil {
			a = startAddressed(t, "insecure", "--fault="+c.fault)
			servers[c.fault] = a
		}
		what := c.fault + " over " + c.target
		authority, peer := requestInfo(t, what, a.run(t, a.opts, `"target":"`+c.target+`"`))
		if want := strings.ReplaceAll(c.authority, "{port}", strconv.Itoa(a.port)); authority != want || !c.peer.MatchString(peer) {
			t.Errorf("%s: authority %q, peer %q; want %q, %s", what, authority, peer, want, c.peer)
		}
	}
}

// TestTargetInstructionsThatCannotRun: a target naming {unix_socket} without
// --server_unix_socket cannot run; target and authority are non-empty strings.
func TestTargetInstructionsThatCannotRun(t *testing.T) {
	a := startAddressed(t, "insecure")
	opts := a.opts
	opts.Server.UnixSocket = ""
	for channel, want := range map[string]string{
		`"target":"unix://{unix_socket}"`: "names {unix_socket}, and the client was given no --server_unix_socket",
		`"target":""`:                     "channel.target must be a non-empty string",
		`"authority":""`:                  "channel.authority must be a non-empty string",
		`"target":5`:                      "channel.target",
		`"authority":null`:                "channel.authority must not be null",
		`"target":"{host}:{port}","authorty":"example.com"`:    "target, authority, keepalive_time_ms, keepalive_timeout_ms, keepalive_permit_without_calls, addresses, lb_policy)",
		`"target":["{host}:{port}"],"authority":"example.com"`: "channel.target",
	} {
		instruction := `{"method":"Unary","channel":{` + channel + `},"requests":[{"script":{}}]}`
		if obs, err := scripted.ExecuteWith(nil, json.RawMessage(instruction), timeout, opts); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("channel {%s}: %+v, %v; want an error containing %q", channel, obs, err, want)
		}
	}
}

// TestChannelTargetOverTLS: on TLS the channel's authority is the credentials' server name
// (--server_host_override, or channel.server_name) whatever the target, the Unix socket's too;
// a channel.authority that differs from it is refused by grpc.NewClient (a local error, no
// call), unless scripted-authority-ignored leaves it out.
func TestChannelTargetOverTLS(t *testing.T) {
	a := startAddressed(t, "tls")
	for _, c := range []struct {
		channel, authority string
		peer               *regexp.Regexp
	}{
		{`"target":"unix:{unix_socket}"`, transporttest.ServerName, unixPeer},
		{`"target":"[::1]:{port}"`, transporttest.ServerName, ipv6Peer},
		{`"target":"unix:{unix_socket}","server_name":"localhost"`, "localhost", unixPeer},
		{`"target":"unix:{unix_socket}","authority":"` + transporttest.ServerName + `"`, transporttest.ServerName, unixPeer},
	} {
		authority, peer := requestInfo(t, c.channel, a.run(t, a.opts, c.channel))
		if authority != c.authority || !c.peer.MatchString(peer) {
			t.Errorf("tls, %s: authority %q, peer %q; want %q, %s", c.channel, authority, peer, c.authority, c.peer)
		}
	}
	const other = `"target":"unix:{unix_socket}","authority":"example.com"`
	o := a.run(t, a.opts, other)
	t.Logf("tls, %s: %v", other, o)
	if said, _ := at(o, "local_error").(string); !strings.Contains(said, `"`+transporttest.ServerName+`" and dial option "example.com" don't match`) || len(o) != 1 {
		t.Errorf("tls, %s: %v; want only a local_error from grpc.NewClient", other, o)
	}
	opts := a.opts
	opts.AuthorityIgnored = true
	if authority, _ := requestInfo(t, "tls, authority ignored", a.run(t, opts, other)); authority != transporttest.ServerName {
		t.Errorf("tls, authority ignored: authority %q", authority)
	}
}
