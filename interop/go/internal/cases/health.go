package cases

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	"interopmatrix/gen/health"
)

func healthCall(method, service string) string {
	return fmt.Sprintf("Health/%s{service:%q}", method, service)
}

// expectServing checks that Health/Check{service} answers SERVING.
func expectServing(t Target, client health.HealthClient, service string) error {
	reply, err := invoke(t, client.Check, &health.HealthCheckRequest{Service: service})
	return expectOK(healthCall("Check", service), err, "SERVING", reply.GetStatus().String())
}

// expectWatchFirst checks that Health/Watch{service} first sends a message with status want;
// the client then cancels the stream.
func expectWatchFirst(t Target, client health.HealthClient, service, want string) error {
	_, cancel, err := watchFrom(t, client, service, want)
	if err != nil {
		return err
	}
	cancel() // the client cancels the stream once it has the first message
	return nil
}

// watchFrom opens Health/Watch{service}, with the --rpc_timeout_ms deadline, and checks that
// its first message has status want; the caller cancels the stream when done with it.
func watchFrom(t Target, client health.HealthClient, service, want string) (grpc.ServerStreamingClient[health.HealthCheckResponse], context.CancelFunc, error) {
	call := healthCall("Watch", service)
	ctx, cancel := t.rpcContext()
	stream, err := client.Watch(ctx, &health.HealthCheckRequest{Service: service})
	if err == nil {
		err = expectWatchMessage(stream, call, "first", want)
	} else {
		err = failed(call, err)
	}
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return stream, cancel, nil
}

// expectWatchMessage checks that the next message of a Health/Watch stream (call, as an error
// names it) has status want; which says which message it is ("first", "next").
func expectWatchMessage(stream grpc.ServerStreamingClient[health.HealthCheckResponse], call, which, want string) error {
	msg, err := stream.Recv()
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s: expected a %s message with status %s, got the end of the stream", call, which, want)
	case err != nil:
		return fmt.Errorf("%s: expected a %s message with status %s, got status %s", call, which, want, describe(err))
	}
	return expect(call+": "+which+" message", want, msg.GetStatus().String())
}
