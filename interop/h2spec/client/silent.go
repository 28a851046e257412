package main

import (
	"fmt"
	"io"
	"net"
)

// listenSilent opens the self-test's silent peer on a loopback port: it completes the HTTP/2
// handshake — the acknowledgement of the client's SETTINGS, then an empty SETTINGS frame of its
// own (in that order, so that the tests of the preface itself, which want the server's SETTINGS
// first, fail too) — and then reads and answers nothing, until this client exits.
func listenSilent() (net.Listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("the silent peer cannot listen: %v", err)
	}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				// Frame header: length 0 (3 bytes), type 4 (SETTINGS), flags, stream 0.
				settings := []byte{0, 0, 0, 4, 0, 0, 0, 0, 0}
				ack := []byte{0, 0, 0, 4, 1, 0, 0, 0, 0}
				if _, err := conn.Write(append(ack, settings...)); err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, conn)
			}()
		}
	}()
	return l, nil
}
