package tlscreds

import (
	"path/filepath"
	"strings"
	"testing"

	"interopmatrix/internal/repo"
)

func certs(t *testing.T, name string) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "certs", name)
}

func TestCredentialsLoad(t *testing.T) {
	server := Server{CertFile: certs(t, "server.pem"), KeyFile: certs(t, "server.key"), RequireClientCert: true, ClientCAFile: certs(t, "ca.pem")}
	if creds, err := server.Credentials(); err != nil || creds.Info().SecurityProtocol != "tls" {
		t.Errorf("server credentials: %v, %v", creds, err)
	}
	client := Client{CAFile: certs(t, "ca.pem"), ServerName: "foo.test.google.fr", CertFile: certs(t, "client.pem"), KeyFile: certs(t, "client.key")}
	creds, err := client.Credentials()
	if err != nil || creds.Info().ServerName != "foo.test.google.fr" {
		t.Errorf("client credentials: %v, %v", creds, err)
	}
	if _, err := (Client{ServerName: "x"}).Credentials(); err != nil {
		t.Errorf("client credentials with the system roots: %v", err)
	}
}

func TestCredentialsReject(t *testing.T) {
	for name, build := range map[string]func() error{
		"missing server key": func() error {
			_, err := Server{CertFile: certs(t, "server.pem"), KeyFile: certs(t, "nope.key")}.Credentials()
			return err
		},
		"mismatched server pair": func() error {
			_, err := Server{CertFile: certs(t, "server.pem"), KeyFile: certs(t, "client.key")}.Credentials()
			return err
		},
		"client CA not PEM": func() error {
			_, err := Server{CertFile: certs(t, "server.pem"), KeyFile: certs(t, "server.key"), RequireClientCert: true, ClientCAFile: certs(t, "generate.sh")}.Credentials()
			return err
		},
		"missing CA": func() error {
			_, err := Client{CAFile: certs(t, "nope.pem")}.Credentials()
			return err
		},
		"certificate without key": func() error {
			_, err := Client{CertFile: certs(t, "client.pem")}.Credentials()
			return err
		},
	} {
		if err := build(); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line", name, err)
		}
	}
}
