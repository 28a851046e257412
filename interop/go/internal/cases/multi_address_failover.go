package cases

import (
	"fmt"
	"net"

	"interopmatrix/gen/helloworld"
)

// multiAddressFailover: a channel given a closed port first and the server second fails over
// to the server.
func multiAddressFailover(t Target) error {
	closed, err := closedPort()
	if err != nil {
		return fmt.Errorf("finding a closed port: %w", err)
	}
	target := fmt.Sprintf("ipv4:127.0.0.1:%d,127.0.0.1:%d", closed, t.Port)
	conn, err := dialIPv4Target(target, t.dialOptions()...)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := sayHello(t, helloworld.NewGreeterClient(conn), "failover"); err != nil {
		return fmt.Errorf("via %s: %w", target, err)
	}
	return nil
}

// closedPort returns a loopback port that nothing listens on: one the kernel just handed out
// and took back.
func closedPort() (int, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := lis.Addr().(*net.TCPAddr).Port
	return port, lis.Close()
}
