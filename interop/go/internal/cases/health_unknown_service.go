package cases

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/health"
)

// healthUnknownService: Health/Check answers SERVING for a served service and NOT_FOUND for
// an unknown one, and Health/Watch of the unknown one first sends SERVICE_UNKNOWN.
func healthUnknownService(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		const served, unknown = "helloworld.Greeter", "no.such.Service"
		client := health.NewHealthClient(conn)
		if err := expectServing(t, client, served); err != nil {
			return err
		}
		_, err := invoke(t, client.Check, &health.HealthCheckRequest{Service: unknown})
		if err := expectStatus(healthCall("Check", unknown), err, codes.NotFound, ""); err != nil {
			return err
		}
		return expectWatchFirst(t, client, unknown, "SERVICE_UNKNOWN")
	})
}
