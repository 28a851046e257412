package tlscreds

import (
	"crypto/tls"
	"fmt"

	"google.golang.org/grpc/credentials"
)

// Client is a client's TLS setup; every path is already resolved.
type Client struct {
	// CAFile is the root of trust; empty means the system roots.
	CAFile string
	// ServerName is the name the server certificate must match, also sent as SNI.
	ServerName string
	// CertFile and KeyFile, both or neither, are the client certificate presented for mTLS.
	CertFile, KeyFile string
}

// Credentials loads the files and returns the client's transport credentials. The
// credentials' server name also becomes the channel's authority in grpc-go.
func (c Client) Credentials() (credentials.TransportCredentials, error) {
	cfg := &tls.Config{ServerName: c.ServerName, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pool, err := loadPool(c.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	switch {
	case c.CertFile != "" && c.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading the client certificate %s / %s: %w", c.CertFile, c.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case c.CertFile != "" || c.KeyFile != "":
		return nil, fmt.Errorf("a client certificate needs both a certificate and a key file (got %q and %q)", c.CertFile, c.KeyFile)
	}
	return credentials.NewTLS(cfg), nil
}
