package cases

import (
	"net"
	"slices"
	"strconv"
	"testing"
)

func TestParseIPv4Target(t *testing.T) {
	for target, want := range map[string][]string{
		"ipv4:127.0.0.1:1":                  {"127.0.0.1:1"},
		"ipv4:127.0.0.1:50001,127.0.0.1:80": {"127.0.0.1:50001", "127.0.0.1:80"},
		"ipv4:10.0.0.1:65535":               {"10.0.0.1:65535"},
	} {
		got, err := parseIPv4Target(target)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseIPv4Target(%q) = %q, %v; want %q", target, got, err, want)
		}
	}
}

func TestParseIPv4TargetRejects(t *testing.T) {
	for _, target := range []string{
		"", "ipv4:", "127.0.0.1:80", "ipv6:[::1]:80", "dns:localhost:80",
		"ipv4:localhost:80", "ipv4:[::1]:80", "ipv4:[::ffff:127.0.0.1]:80", "ipv4:127.0.0.1",
		"ipv4:127.0.0.1:0", "ipv4:127.0.0.1:65536", "ipv4:127.0.0.1:http", "ipv4:127.0.0.1:80,",
		"ipv4:256.0.0.1:80",
	} {
		if got, err := parseIPv4Target(target); err == nil {
			t.Errorf("parseIPv4Target(%q) = %q, want an error", target, got)
		}
	}
}

func TestClosedPortRefusesConnections(t *testing.T) {
	port, err := closedPort()
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
		conn.Close()
		t.Errorf("port %d accepted a connection", port)
	}
}
