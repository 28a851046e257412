package server

import (
	"net"
	"testing"
)

func TestReusePortSharesAPort(t *testing.T) {
	first, err := listen("127.0.0.1", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	port := first.Addr().(*net.TCPAddr).Port
	second, err := listen("127.0.0.1", port, true)
	if err != nil {
		t.Fatalf("a second SO_REUSEPORT listener on port %d: %v", port, err)
	}
	second.Close()
	if plain, err := listen("127.0.0.1", port, false); err == nil {
		plain.Close()
		t.Errorf("a listener without SO_REUSEPORT bound the shared port %d", port)
	}
}
