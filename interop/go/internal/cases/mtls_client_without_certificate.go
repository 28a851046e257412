package cases

import (
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/grpctesting"
)

// mtlsClientWithoutCertificate: over TLS but without the client certificate, EmptyCall{} →
// UNAVAILABLE (an mTLS server refuses the handshake).
func mtlsClientWithoutCertificate(t Target) error {
	if t.Creds == nil || t.CredsWithoutCertificate == nil {
		return errors.New("mtls_client_without_certificate: needs --use_tls=true (run it over the mtls transport)")
	}
	withoutCertificate := t
	if !t.WithCertificate {
		withoutCertificate.Creds = t.CredsWithoutCertificate
	}
	return withoutCertificate.onChannel(func(conn *grpc.ClientConn) error {
		_, err := invoke(t, grpctesting.NewTestServiceClient(conn).EmptyCall, &grpctesting.Empty{})
		return expectStatus("EmptyCall over TLS without a client certificate", err, codes.Unavailable, "")
	})
}
