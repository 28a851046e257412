// Package cases holds the client's test cases of the seeds, grpc.testing, testing-edges,
// discovery, security and netrpc suites, one function per case, and the registry that runs them
// by name (docs/peer-contract.md, "Cases of the seeds suite", "Cases of the grpc.testing suite",
// "The testing-edges suite", "The discovery suite", "The security suite" and "The netrpc suite").
package cases

import (
	"context"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/encoding/gzip" // registers gzip: compressed requests and responses
)

// Target is the server under test.
type Target struct {
	Host       string
	Port       int
	RPCTimeout time.Duration // the deadline of every RPC, and of every stream as a whole
	// Creds are the channel's transport credentials; nil means insecure.
	Creds credentials.TransportCredentials
	// NoCancel is the self-test's --client_fault=no-cancel: the cases that cancel or time out
	// a call half-close it instead, so that they must fail.
	NoCancel bool
	// CredsWithoutCertificate are Creds less the client certificate (the security suite).
	CredsWithoutCertificate credentials.TransportCredentials
	// WithCertificate is the self-test's --client_fault=with-certificate: the security case
	// presents the certificate after all, so that it must fail.
	WithCertificate bool
	// NoChecks is the self-test's --client_fault=no-checks: every case makes its calls but
	// checks nothing and passes (see RunObserved), so that every server fault must be missed.
	NoChecks bool

	// observed is where a case reports what the library gave it (see report).
	observed *any
}

// report records what the library gave the case, for the runner to judge (the result line's
// "observed", docs/peer-contract.md); RunObserved returns it.
func (t Target) report(observed any) {
	if t.observed != nil {
		*t.observed = observed
	}
}

// rpcContext returns the context for one RPC or one whole stream.
func (t Target) rpcContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), t.RPCTimeout)
}

// dialOptions are the options of every channel to the target.
func (t Target) dialOptions() []grpc.DialOption {
	creds := t.Creds
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	return []grpc.DialOption{grpc.WithTransportCredentials(creds), grpc.WithStatsHandler(wireObserver{})}
}

// Dial opens a new channel to the target, with the options of every case's channel.
func (t Target) Dial() (*grpc.ClientConn, error) {
	return t.DialWith()
}

// DialWith opens a new channel to the target, with the options of every case's channel (the
// transport credentials, which carry the TLS server name) and then extra.
func (t Target) DialWith(extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	return t.DialTarget(net.JoinHostPort(t.Host, strconv.Itoa(t.Port)), extra...)
}

// DialTarget opens a new channel to target, grpc.NewClient's target as it is (another address
// of the server, in any form grpc-go's resolvers take), with the options of every case's channel
// and then extra.
func (t Target) DialTarget(target string, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	return grpc.NewClient(target, append(t.dialOptions(), extra...)...)
}

// WithServerName is the dial option that makes a channel to the target check the server's
// certificate against name instead of the transport's server name (--server_host_override, or
// --server_host): the channel's TLS credentials (Creds, the client certificate included) with
// name as their server name, exactly as given, by the means the flag uses (the ServerName of the
// credentials' tls.Config; grpc-go takes the channel's authority from it, clientconn.go
// initAuthority). Put after the target's own options (DialWith's extra), it replaces their
// credentials. On an insecure target it is nil: there is no certificate to check.
func (t Target) WithServerName(name string) (grpc.DialOption, error) {
	if t.Creds == nil || t.Creds.Info().SecurityProtocol == "insecure" {
		return nil, nil
	}
	creds := t.Creds.Clone()
	// OverrideServerName sets exactly what the flag sets (tlscreds.Client.ServerName): the
	// ServerName of the clone's own tls.Config (credentials/tls.go), which the handshake checks
	// the certificate against and grpc-go takes as the channel's authority. It is deprecated
	// in favour of grpc.WithAuthority, which would set only the authority, not the credentials.
	if err := creds.OverrideServerName(name); err != nil {
		return nil, err
	}
	return grpc.WithTransportCredentials(creds), nil
}

// onChannel runs f on a new channel to the target, then closes the channel.
func (t Target) onChannel(f func(*grpc.ClientConn) error) error {
	conn, err := t.Dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	return f(conn)
}

// invoke makes one unary call with the RPC deadline.
func invoke[Req, Resp any](t Target, rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req, opts ...grpc.CallOption) (Resp, error) {
	ctx, cancel := t.rpcContext()
	defer cancel()
	return rpc(ctx, req, opts...)
}
