package client

import (
	"errors"
	"flag"

	"google.golang.org/grpc/credentials"

	"interopmatrix/internal/cli"
	"interopmatrix/internal/repo"
	"interopmatrix/internal/tlscreds"
)

// tlsFlags are the client's transport flags (docs/peer-contract.md, "Transports").
type tlsFlags struct {
	useTLS, useTestCA             bool
	caFile, serverHostOverride    string
	clientCertFile, clientKeyFile string
}

func (t *tlsFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&t.useTLS, "use_tls", false, "connect over TLS")
	fs.BoolVar(&t.useTestCA, "use_test_ca", false, "trust --ca_file instead of the system roots (with --use_tls)")
	fs.StringVar(&t.caFile, "ca_file", tlscreds.DefaultCA, "the test CA (PEM), with --use_test_ca")
	fs.StringVar(&t.serverHostOverride, "server_host_override", "", "the name the server certificate must match, also the TLS authority (with --use_tls); default --server_host")
	fs.StringVar(&t.clientCertFile, "client_cert_file", "", "client certificate (PEM) for mTLS, with --client_key_file")
	fs.StringVar(&t.clientKeyFile, "client_key_file", "", "client private key (PEM) for mTLS, with --client_cert_file")
}

// credentials checks the flags and returns the TLS credentials for a server on host, or nil
// for an insecure channel. The files are loaded here, so that a bad one is a flag error.
// credentials returns the channel credentials the flags describe, and the same without the
// client certificate (for the security suite); both nil for an insecure client.
func (t *tlsFlags) credentials(fs *flag.FlagSet, host string) (credentials.TransportCredentials, credentials.TransportCredentials, error) {
	if (t.clientCertFile == "") != (t.clientKeyFile == "") {
		return nil, nil, errors.New("--client_cert_file and --client_key_file go together: give both or neither")
	}
	if !t.useTLS {
		if t.clientCertFile != "" {
			return nil, nil, errors.New("--client_cert_file needs --use_tls=true")
		}
		return nil, nil, nil // --use_test_ca and --server_host_override mean nothing without TLS
	}
	cfg := tlscreds.Client{ServerName: t.serverHostOverride}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	var err error
	if t.useTestCA {
		if cfg.CAFile, err = repo.FlagPath(t.caFile, cli.IsSet(fs, "ca_file")); err != nil {
			return nil, nil, err
		}
	}
	if t.clientCertFile != "" {
		if cfg.CertFile, err = repo.Resolve(t.clientCertFile); err != nil {
			return nil, nil, err
		}
		if cfg.KeyFile, err = repo.Resolve(t.clientKeyFile); err != nil {
			return nil, nil, err
		}
	}
	creds, err := cfg.Credentials()
	if err != nil {
		return nil, nil, err
	}
	withoutCertificate := cfg
	withoutCertificate.CertFile, withoutCertificate.KeyFile = "", ""
	noCert, err := withoutCertificate.Credentials()
	return creds, noCert, err
}
