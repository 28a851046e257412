package server

import (
	"errors"
	"flag"
	"strconv"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"interopmatrix/internal/cli"
	"interopmatrix/internal/repo"
	"interopmatrix/internal/tlscreds"
)

// tlsFlags are the server's transport flags (docs/peer-contract.md, "Transports").
type tlsFlags struct {
	useTLS, requireClientCert   bool
	certFile, keyFile, clientCA string
}

func (t *tlsFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&t.useTLS, "use_tls", false, "serve over TLS")
	fs.StringVar(&t.certFile, "tls_cert_file", tlscreds.DefaultServerCert, "server certificate (PEM), with --use_tls")
	fs.StringVar(&t.keyFile, "tls_key_file", tlscreds.DefaultServerKey, "server private key (PEM), with --use_tls")
	fs.BoolVar(&t.requireClientCert, "require_client_cert", false, "mTLS: demand a client certificate signed by --client_ca_file (needs --use_tls)")
	fs.StringVar(&t.clientCA, "client_ca_file", tlscreds.DefaultCA, "CA that signs client certificates, with --require_client_cert")
}

// resolve checks the flags and returns the TLS setup with absolute paths (nil for insecure).
// The files are loaded once here, so that a bad one is a flag error.
func (t *tlsFlags) resolve(fs *flag.FlagSet) (*tlscreds.Server, error) {
	if !t.useTLS {
		if t.requireClientCert {
			return nil, errors.New("--require_client_cert=true needs --use_tls=true")
		}
		return nil, nil // the file flags mean nothing without TLS
	}
	var s tlscreds.Server
	var err error
	if s.CertFile, err = repo.FlagPath(t.certFile, cli.IsSet(fs, "tls_cert_file")); err != nil {
		return nil, err
	}
	if s.KeyFile, err = repo.FlagPath(t.keyFile, cli.IsSet(fs, "tls_key_file")); err != nil {
		return nil, err
	}
	if s.RequireClientCert = t.requireClientCert; s.RequireClientCert {
		if s.ClientCAFile, err = repo.FlagPath(t.clientCA, cli.IsSet(fs, "client_ca_file")); err != nil {
			return nil, err
		}
	}
	if _, err := s.Credentials(); err != nil {
		return nil, err
	}
	return &s, nil
}

// credentials returns the transport credentials of cfg.
func (c Config) credentials() (credentials.TransportCredentials, error) {
	if c.TLS == nil {
		return insecure.NewCredentials(), nil
	}
	return c.TLS.Credentials()
}

// tlsArgs renders the TLS setup as the flags that give it to a worker.
func (c Config) tlsArgs() []string {
	if c.TLS == nil {
		return []string{"--use_tls=false"}
	}
	args := []string{
		"--use_tls=true",
		"--tls_cert_file=" + c.TLS.CertFile,
		"--tls_key_file=" + c.TLS.KeyFile,
		"--require_client_cert=" + strconv.FormatBool(c.TLS.RequireClientCert),
	}
	if c.TLS.RequireClientCert {
		args = append(args, "--client_ca_file="+c.TLS.ClientCAFile)
	}
	return args
}
