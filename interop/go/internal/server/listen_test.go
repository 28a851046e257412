package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"interopmatrix/internal/faults"
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

// socketPath is a path for a Unix socket in the test's temporary directory (short enough, for
// these test names, for a socket's at most 107 bytes).
func socketPath(t *testing.T) string { return filepath.Join(t.TempDir(), "server.sock") }

// TestListenAll: --ipv6_loopback binds [::1] at the port --host got, --second_host that address
// at the same port, --unix_socket the socket; closing the listeners removes the socket's file.
func TestListenAll(t *testing.T) {
	socket := socketPath(t)
	listeners, port, err := Config{Host: "127.0.0.1", IPv6Loopback: true, SecondHost: "127.0.0.2", UnixSocket: socket}.listenAll()
	if err != nil {
		t.Fatal(err)
	}
	var addresses []string
	for _, l := range listeners {
		addresses = append(addresses, l.Addr().Network()+" "+l.Addr().String())
	}
	want := []string{"tcp 127.0.0.1:" + strconv.Itoa(port), "tcp [::1]:" + strconv.Itoa(port), "tcp 127.0.0.2:" + strconv.Itoa(port), "unix " + socket}
	if strings.Join(addresses, ", ") != strings.Join(want, ", ") {
		t.Errorf("listening on %q, want %q", addresses, want)
	}
	for _, l := range listeners {
		l.Close()
	}
	if _, err := os.Stat(socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket file is still there after Close: %v", err)
	}

	listeners, _, err = Config{Host: "127.0.0.1"}.listenAll()
	if err != nil || len(listeners) != 1 {
		t.Fatalf("without the flags: %d listeners, %v", len(listeners), err)
	}
	listeners[0].Close()
}

// TestSecondHostIgnoredFault: under scripted-second-host-ignored --second_host binds nothing;
// the other addresses are bound as without the fault.
func TestSecondHostIgnoredFault(t *testing.T) {
	cfg := Config{Host: "127.0.0.1", IPv6Loopback: true, SecondHost: "127.0.0.2", Faults: faults.Set{faults.ScriptedSecondHostIgnored: true}}
	listeners, port, err := cfg.listenAll()
	if err != nil {
		t.Fatal(err)
	}
	var addresses []string
	for _, l := range listeners {
		addresses = append(addresses, l.Addr().String())
		l.Close()
	}
	if want := []string{"127.0.0.1:" + strconv.Itoa(port), "[::1]:" + strconv.Itoa(port)}; strings.Join(addresses, ", ") != strings.Join(want, ", ") {
		t.Errorf("listening on %q, want %q", addresses, want)
	}
}

// TestListenAllFailsWhole: a port taken on [::1] or on the second host, a second host that is
// --host itself, or a socket that cannot be made, fails the start-up, and what was bound is
// closed again.
func TestListenAllFailsWhole(t *testing.T) {
	taken, err := listen("::1", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	takenSecond, err := listen("127.0.0.2", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer takenSecond.Close()
	secondPort := takenSecond.Addr().(*net.TCPAddr).Port
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Host: "127.0.0.1", Port: port, IPv6Loopback: true}, "--ipv6_loopback: listen tcp [::1]:" + strconv.Itoa(port)},
		{Config{Host: "127.0.0.1", Port: secondPort, SecondHost: "127.0.0.2"}, "--second_host: listen tcp 127.0.0.2:" + strconv.Itoa(secondPort)},
		{Config{Host: "127.0.0.1", Port: port, SecondHost: "127.0.0.1"}, "--second_host: listen tcp 127.0.0.1:" + strconv.Itoa(port)},
		{Config{Host: "127.0.0.1", Port: port, UnixSocket: "/nonexistent/dir/server.sock"}, "--unix_socket: listen unix /nonexistent/dir/server.sock"},
	} {
		if listeners, _, err := c.cfg.listenAll(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, %v; want an error containing %q", c.cfg, listeners, err, c.want)
		}
		// 127.0.0.1 at that port was bound, then closed.
		again, err := listen("127.0.0.1", c.cfg.Port, false)
		if err != nil {
			t.Fatalf("127.0.0.1:%d was left bound: %v", c.cfg.Port, err)
		}
		again.Close()
	}
}

// TestServeFailsWhenIPv6PortTaken: the server does not start (Serve returns the error, the
// command exits 1) when [::1] has the port --host got, and prints no listening line.
func TestServeFailsWhenIPv6PortTaken(t *testing.T) {
	taken, err := listen("::1", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	cfg, err := ParseFlags([]string{"--port=" + strconv.Itoa(port), "--ipv6_loopback=true", "--unix_socket=" + socketPath(t)})
	if err != nil {
		t.Fatal(err)
	}
	// A server that starts all the same stops at its listening line, and fails the test.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &stopAtListening{cancel: cancel}
	err = Serve(ctx, cfg, stdout)
	if err == nil || !strings.Contains(err.Error(), "address already in use") || stdout.Len() != 0 {
		t.Errorf("Serve = %v, stdout %q; want address already in use and nothing printed", err, stdout.String())
	}
}

// stopAtListening is a stdout that cancels the server's context once it is written to.
type stopAtListening struct {
	strings.Builder
	cancel context.CancelFunc
}

func (w *stopAtListening) Write(p []byte) (int, error) {
	defer w.cancel()
	return w.Builder.Write(p)
}

// TestServeStopsEveryListener: once Serve returns, no address is served any more and the
// socket's file is gone.
func TestServeStopsEveryListener(t *testing.T) {
	socket := socketPath(t)
	cfg, err := ParseFlags([]string{"--port=0", "--ipv6_loopback=true", "--second_host=127.0.0.2", "--unix_socket=" + socket})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Serve(ctx, cfg, w)
		w.Close()
		done <- err
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	port, perr := parseListening(line)
	if err != nil || perr != nil {
		cancel()
		t.Fatalf("listening line %q: %v, %v (Serve: %v)", line, err, perr, <-done)
	}
	addresses := [][2]string{{"tcp", "127.0.0.1:" + strconv.Itoa(port)}, {"tcp", "[::1]:" + strconv.Itoa(port)}, {"tcp", "127.0.0.2:" + strconv.Itoa(port)}, {"unix", socket}}
	for _, a := range addresses {
		conn, err := net.Dial(a[0], a[1])
		if err != nil {
			t.Errorf("%s %s not served: %v", a[0], a[1], err)
			continue
		}
		conn.Close()
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve = %v after the stop", err)
	}
	for _, a := range addresses {
		if conn, err := net.Dial(a[0], a[1]); err == nil {
			conn.Close()
			t.Errorf("%s %s still served after the stop", a[0], a[1])
		}
	}
	if _, err := os.Stat(socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket file is still there after the stop: %v", err)
	}
}
