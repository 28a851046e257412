package cases

import (
	"errors"
	"fmt"
	"io"

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
		reply, err := invoke(t, client.Check, &health.HealthCheckRequest{Service: served})
		if err := expectOK(healthCall("Check", served), err, "SERVING", reply.GetStatus().String()); err != nil {
			return err
		}
		_, err = invoke(t, client.Check, &health.HealthCheckRequest{Service: unknown})
		if err := expectStatus(healthCall("Check", unknown), err, codes.NotFound, ""); err != nil {
			return err
		}
		call := healthCall("Watch", unknown)
		ctx, cancel := t.rpcContext()
		defer cancel() // the client cancels the stream once it has the first message
		stream, err := client.Watch(ctx, &health.HealthCheckRequest{Service: unknown})
		if err != nil {
			return failed(call, err)
		}
		first, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: expected a first message with status SERVICE_UNKNOWN, got the end of the stream", call)
		}
		return expectOK(call+": first message", err, "SERVICE_UNKNOWN", first.GetStatus().String())
	})
}

func healthCall(method, service string) string {
	return fmt.Sprintf("Health/%s{service:%q}", method, service)
}
