package server

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"interopmatrix/internal/faults"
)

// listen binds host:port over TCP; with reusePort, other processes may bind the same port
// and the kernel spreads incoming connections between them (SO_REUSEPORT).
func listen(host string, port int, reusePort bool) (net.Listener, error) {
	var lc net.ListenConfig
	if reusePort {
		lc.Control = setReusePort
	}
	return lc.Listen(context.Background(), "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
}

// listenAll binds every address the server serves: Host:Port over TCP (with SO_REUSEPORT when
// workers share it), then with IPv6Loopback [::1] at the port that bound, then with SecondHost
// that address at the same port (not under scripted-second-host-ignored), then with UnixSocket
// that Unix domain socket. It returns the listeners and the TCP port; when one cannot be bound,
// it closes those it bound (a Unix socket's file with it) and returns the error.
func (c Config) listenAll() ([]net.Listener, int, error) {
	lis, err := listen(c.Host, c.Port, c.reusePort())
	if err != nil {
		return nil, 0, err
	}
	port := lis.Addr().(*net.TCPAddr).Port
	var more []extraListener
	if c.IPv6Loopback {
		more = append(more, extraListener{"--ipv6_loopback", func() (net.Listener, error) { return listen("::1", port, false) }})
	}
	if c.SecondHost != "" && !c.Faults.Has(faults.ScriptedSecondHostIgnored) {
		more = append(more, extraListener{"--second_host", func() (net.Listener, error) { return listen(c.SecondHost, port, false) }})
	}
	if c.UnixSocket != "" {
		more = append(more, extraListener{"--unix_socket", func() (net.Listener, error) { return net.Listen("unix", c.UnixSocket) }})
	}
	all := []net.Listener{lis}
	for _, m := range more {
		l, err := m.bind()
		if err != nil {
			for _, l := range all {
				l.Close()
			}
			return nil, 0, fmt.Errorf("%s: %w", m.flag, err)
		}
		all = append(all, l)
	}
	return all, port, nil
}

// extraListener is an address served beside Host:Port, and the flag that asks for it.
type extraListener struct {
	flag string
	bind func() (net.Listener, error)
}

func setReusePort(_, _ string, conn syscall.RawConn) error {
	var sockErr error
	err := conn.Control(func(fd uintptr) {
		sockErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return sockErr
}
