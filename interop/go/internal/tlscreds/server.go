// Package tlscreds builds the TLS and mTLS transport credentials of the contract
// (docs/peer-contract.md, "Transports (TLS and mTLS)") from the project's test PKI in certs/.
package tlscreds

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"google.golang.org/grpc/credentials"
)

// Default paths of the contract, relative to the repository root.
const (
	DefaultCA         = "certs/ca.pem"
	DefaultServerCert = "certs/server.pem"
	DefaultServerKey  = "certs/server.key"
)

// Server is a server's TLS setup; every path is already resolved.
type Server struct {
	CertFile, KeyFile string
	// RequireClientCert rejects a handshake without a client certificate signed by ClientCAFile.
	RequireClientCert bool
	ClientCAFile      string
}

// Credentials loads the files and returns the server's transport credentials.
func (s Server) Credentials() (credentials.TransportCredentials, error) {
	cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("loading the server certificate %s / %s: %w", s.CertFile, s.KeyFile, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if s.RequireClientCert {
		pool, err := loadPool(s.ClientCAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = pool
	}
	return credentials.NewTLS(cfg), nil
}

// loadPool reads a PEM file of CA certificates.
func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}
