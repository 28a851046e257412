// Package transporttest gives tests the three transports of the contract (insecure, tls,
// mtls) built from the project's test PKI, as the server and the client set them up.
package transporttest

import (
	"path/filepath"
	"testing"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"interopmatrix/internal/repo"
	"interopmatrix/internal/tlscreds"
)

// Names are the transports, in the contract's order.
var Names = []string{"insecure", "tls", "mtls"}

// ServerName is the name the tls and mtls clients verify (--server_host_override).
const ServerName = "foo.test.google.fr"

// Cert returns the path of a file of certs/.
func Cert(tb testing.TB, name string) string {
	tb.Helper()
	root, err := repo.Root()
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(root, "certs", name)
}

// ServerCreds returns the server credentials of a transport.
func ServerCreds(tb testing.TB, transport string) credentials.TransportCredentials {
	tb.Helper()
	if transport == "insecure" {
		return insecure.NewCredentials()
	}
	s := tlscreds.Server{CertFile: Cert(tb, "server.pem"), KeyFile: Cert(tb, "server.key")}
	if transport == "mtls" {
		s.RequireClientCert, s.ClientCAFile = true, Cert(tb, "ca.pem")
	}
	return must(tb, s.Credentials)
}

// ClientCreds returns the client credentials of a transport.
func ClientCreds(tb testing.TB, transport string) credentials.TransportCredentials {
	tb.Helper()
	if transport == "insecure" {
		return insecure.NewCredentials()
	}
	c := tlscreds.Client{CAFile: Cert(tb, "ca.pem"), ServerName: ServerName}
	if transport == "mtls" {
		c.CertFile, c.KeyFile = Cert(tb, "client.pem"), Cert(tb, "client.key")
	}
	return must(tb, c.Credentials)
}

// ClientArgs are the client flags of a transport, exactly as docs/peer-contract.md
// ("Transports") gives them: the certificate paths are relative to the repository root.
func ClientArgs(transport string) []string {
	switch transport {
	case "insecure":
		return []string{"--use_tls=false"}
	case "tls":
		return []string{"--use_tls=true", "--use_test_ca=true", "--server_host_override=" + ServerName}
	}
	return append(ClientArgs("tls"), "--client_cert_file=certs/client.pem", "--client_key_file=certs/client.key")
}

// ServerArgs are the server flags of a transport.
func ServerArgs(transport string) []string {
	switch transport {
	case "insecure":
		return []string{"--use_tls=false"}
	case "tls":
		return []string{"--use_tls=true"}
	}
	return []string{"--use_tls=true", "--require_client_cert=true"}
}

func must(tb testing.TB, build func() (credentials.TransportCredentials, error)) credentials.TransportCredentials {
	tb.Helper()
	creds, err := build()
	if err != nil {
		tb.Fatal(err)
	}
	return creds
}
