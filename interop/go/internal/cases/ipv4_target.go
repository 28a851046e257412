package cases

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// ipv4Scheme is the scheme of gRPC's "ipv4:" targets (ipv4:host:port,host:port,…), which
// grpc-core and grpc-js resolve but grpc-go does not.
const ipv4Scheme = "ipv4"

// dialIPv4Target dials an "ipv4:" target by handing its addresses, in order, to a manual
// resolver; the channel keeps the default pick_first policy, which tries them in that order.
// With TLS, opts' credentials carry the server name to verify (never the odd authority of
// this target).
func dialIPv4Target(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	addresses, err := parseIPv4Target(target)
	if err != nil {
		return nil, err
	}
	r := manual.NewBuilderWithScheme("interop-" + ipv4Scheme)
	state := resolver.State{}
	for _, addr := range addresses {
		state.Endpoints = append(state.Endpoints, resolver.Endpoint{Addresses: []resolver.Address{{Addr: addr}}})
	}
	r.InitialState(state)
	return grpc.NewClient(r.Scheme()+":///"+target, append(opts, grpc.WithResolvers(r))...)
}

// parseIPv4Target returns the host:port addresses of "ipv4:host:port,host:port,…"; every host
// must be an IPv4 literal and every port a number.
func parseIPv4Target(target string) ([]string, error) {
	list, ok := strings.CutPrefix(target, ipv4Scheme+":")
	if !ok || list == "" {
		return nil, fmt.Errorf("target %q: expected ipv4:host:port[,host:port…]", target)
	}
	var addresses []string
	for _, addr := range strings.Split(list, ",") {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("target %q: %w", target, err)
		}
		if ip := net.ParseIP(host); ip == nil || ip.To4() == nil || strings.Contains(host, ":") {
			return nil, fmt.Errorf("target %q: %q is not an IPv4 address", target, host)
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return nil, fmt.Errorf("target %q: %q is not a port", target, port)
		}
		addresses = append(addresses, addr)
	}
	return addresses, nil
}
