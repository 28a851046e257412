package scripted_test

import (
	"encoding/json"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"interopmatrix/internal/scripted"
)

// INSTRUCTION's channel.addresses and channel.lb_policy (docs/peer-contract.md, "Client: the
// generic executor"), the client fault scripted-target-ignored and the server's --second_host
// with the fault scripted-second-host-ignored, against the Go peer's server started with
// --second_host=127.0.0.2: one grpc.Server on 127.0.0.1 and 127.0.0.2 at the same port, two
// backends to a channel given both addresses.

// spread runs a Unary call and 9 follow-ups 100 ms apart on a channel of its own with the
// members channel (as cases/addressing/lb_*.yaml do), and returns how many of the 10 calls each
// client address the server saw (RequestInfo.peer: one per connection) carried.
func (a *addressed) spread(t *testing.T, opts scripted.Options, channel string) map[string]int {
	t.Helper()
	followups := slices.Repeat([]string{`{"after_ms":100,"method":"Unary","requests":[{"script":{}}]}`}, 9)
	instruction := `{"method":"Unary","channel":{` + channel + `},"requests":[{"script":{}}],"followups":[` + strings.Join(followups, ",") + `]}`
	obs, err := scripted.ExecuteWith(nil, json.RawMessage(instruction), timeout, opts)
	if err != nil {
		t.Fatalf("channel {%s}: the executor failed: %v", channel, err)
	}
	o := plain(t, obs)
	calls := []map[string]any{o}
	for _, f := range listAt(o, "followups") {
		calls = append(calls, f.(map[string]any))
	}
	perPeer := map[string]int{}
	for i, c := range calls {
		_, peer := requestInfo(t, "call "+strconv.Itoa(i+1)+" of {"+channel+"}", c)
		perPeer[peer]++
	}
	t.Logf("{%s}: %v", channel, perPeer)
	return perPeer
}

// twoBackends are the addresses of the server's two backends, as the case files write them.
const twoBackends = `"addresses":["{host}:{port}","127.0.0.2:{port}"]`

// TestRoundRobinSpreadsOverTwoAddresses: a round_robin channel over both addresses spreads its
// calls over two connections, each carrying at least 3 of the 10 (on TLS too: the server name
// applies to both); pick_first, or no lb_policy (grpc-go's default, pick_first), sends them all
// over one.
func TestRoundRobinSpreadsOverTwoAddresses(t *testing.T) {
	for _, transport := range []string{"insecure", "tls"} {
		a := startAddressed(t, transport, "--second_host=127.0.0.2")
		perPeer := a.spread(t, a.opts, twoBackends+`,"lb_policy":"round_robin"`)
		if len(perPeer) != 2 {
			t.Errorf("%s, round_robin: the calls came from %v, want two connections", transport, perPeer)
		}
		for peer, n := range perPeer {
			if !ipv4Peer.MatchString(peer) || n < 3 {
				t.Errorf("%s, round_robin: %d calls from %q, want at least 3 from an IPv4 client", transport, n, peer)
			}
		}
		for _, channel := range []string{twoBackends + `,"lb_policy":"pick_first"`, twoBackends} {
			if perPeer := a.spread(t, a.opts, channel); len(perPeer) != 1 {
				t.Errorf("%s, {%s}: the calls came from %v, want one connection", transport, channel, perPeer)
			}
		}
	}
}

// TestAddressesReachTheSecondHost: a channel given only 127.0.0.2 reaches the server there
// (round_robin or not), and the addresses are in pick_first's order: with a closed port first it
// fails over to the server. Without TLS, the :authority is the one grpc-go derives from the
// target interop-addresses:///backends, its endpoint "backends".
func TestAddressesReachTheSecondHost(t *testing.T) {
	a := startAddressed(t, "insecure", "--second_host=127.0.0.2")
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := strconv.Itoa(closed.Addr().(*net.TCPAddr).Port)
	closed.Close()
	for _, channel := range []string{
		`"addresses":["127.0.0.2:{port}"]`,
		`"addresses":["127.0.0.2:{port}"],"lb_policy":"round_robin"`,
		`"addresses":["127.0.0.1:` + closedPort + `","127.0.0.2:{port}"],"lb_policy":"pick_first"`,
	} {
		if authority, peer := requestInfo(t, channel, a.run(t, a.opts, channel)); authority != "backends" || !ipv4Peer.MatchString(peer) {
			t.Errorf("{%s}: authority %q, peer %q; want backends, an IPv4 client", channel, authority, peer)
		}
	}
}

// TestAddressesFaults: under the client fault scripted-target-ignored the channel dials
// --server_host:--server_port alone (one connection, round_robin or not); under the server fault
// scripted-second-host-ignored the server does not listen on 127.0.0.2, so a round_robin channel
// over both addresses has one connection (to 127.0.0.1), and one given 127.0.0.2 alone fails
// UNAVAILABLE.
func TestAddressesFaults(t *testing.T) {
	a := startAddressed(t, "insecure", "--second_host=127.0.0.2")
	opts := a.opts
	opts.TargetIgnored = true
	if perPeer := a.spread(t, opts, twoBackends+`,"lb_policy":"round_robin"`); len(perPeer) != 1 {
		t.Errorf("scripted-target-ignored: the calls came from %v, want one connection", perPeer)
	}
	o := a.run(t, opts, `"addresses":["127.0.0.2:1"]`) // a port nothing listens on: ignored
	expectCode(t, "scripted-target-ignored, an address nothing listens on", o, codeOK)

	a = startAddressed(t, "insecure", "--second_host=127.0.0.2", "--fault=scripted-second-host-ignored")
	if conn, err := net.DialTimeout("tcp", "127.0.0.2:"+strconv.Itoa(a.port), time.Second); err == nil {
		conn.Close()
		t.Errorf("scripted-second-host-ignored: 127.0.0.2:%d accepts connections", a.port)
	}
	if perPeer := a.spread(t, a.opts, twoBackends+`,"lb_policy":"round_robin"`); len(perPeer) != 1 {
		t.Errorf("scripted-second-host-ignored, round_robin: the calls came from %v, want one connection", perPeer)
	}
	o = a.run(t, a.opts, `"addresses":["127.0.0.2:{port}"]`)
	expectCode(t, "scripted-second-host-ignored, 127.0.0.2 alone", o, codeUnavailable)
}

// TestAddressesInstructionsThatCannotRun: addresses is a non-empty list of non-empty strings and
// does not go with target; lb_policy is pick_first or round_robin.
func TestAddressesInstructionsThatCannotRun(t *testing.T) {
	a := startAddressed(t, "insecure")
	for channel, want := range map[string]string{
		twoBackends + `,"target":"{host}:{port}"`: "channel.addresses does not go with channel.target",
		`"addresses":[]`:                   "channel.addresses must be a non-empty list",
		`"addresses":["{host}:{port}",""]`: "channel.addresses must be a non-empty list",
		`"addresses":"{host}:{port}"`:      "channel.addresses",
		`"addresses":[5]`:                  "channel.addresses",
		`"addresses":null`:                 "channel.addresses must not be null",
		`"lb_policy":"grpclb"`:             `channel.lb_policy must be one of ["pick_first" "round_robin"], got "grpclb"`,
		`"lb_policy":"Round_Robin"`:        "channel.lb_policy must be one of",
		`"lb_policy":1`:                    "channel.lb_policy",
	} {
		instruction := `{"method":"Unary","channel":{` + channel + `},"requests":[{"script":{}}]}`
		if obs, err := scripted.ExecuteWith(nil, json.RawMessage(instruction), timeout, a.opts); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("channel {%s}: %+v, %v; want an error containing %q", channel, obs, err, want)
		}
	}
}
