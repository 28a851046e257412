package services_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"interopmatrix/gen/health"
	"interopmatrix/gen/helloworld"
	"interopmatrix/gen/serverinfo"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/servertest"
)

// connect starts a server with faults f and returns a channel to it and a call context.
func connect(t *testing.T, f faults.Set) (*grpc.ClientConn, context.Context) {
	t.Helper()
	port := servertest.Start(t, f)
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return conn, ctx
}

func TestHealthCheck(t *testing.T) {
	conn, ctx := connect(t, nil)
	client := health.NewHealthClient(conn)
	for _, service := range []string{
		"", "helloworld.Greeter", "helloworld.StreamingGreeter", "rpc_package.HelloWorldService",
		"compute.Compute", "UserRecommend", "TestServer", "panda.Panda", "interop.ServerInfo",
		"grpc.health.v1.Health",
	} {
		reply, err := client.Check(ctx, &health.HealthCheckRequest{Service: service})
		if err != nil || reply.GetStatus() != health.HealthCheckResponse_SERVING {
			t.Errorf("Check(%q) = %v, %v; want SERVING", service, reply, err)
		}
	}
	for _, service := range []string{"nope", "helloworld.Greeter/SayHello", "Greeter"} {
		_, err := client.Check(ctx, &health.HealthCheckRequest{Service: service})
		if status.Code(err) != codes.NotFound {
			t.Errorf("Check(%q) error = %v, want NOT_FOUND", service, err)
		}
	}
}

func TestHealthWatchHoldsTheStreamOpen(t *testing.T) {
	conn, ctx := connect(t, nil)
	client := health.NewHealthClient(conn)
	for service, want := range map[string]health.HealthCheckResponse_ServingStatus{
		"":            health.HealthCheckResponse_SERVING,
		"panda.Panda": health.HealthCheckResponse_SERVING,
		"nope":        health.HealthCheckResponse_SERVICE_UNKNOWN,
	} {
		watchCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		stream, err := client.Watch(watchCtx, &health.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatal(err)
		}
		if reply, err := stream.Recv(); err != nil || reply.GetStatus() != want {
			t.Errorf("Watch(%q) first reply = %v, %v; want %v", service, reply, err, want)
		}
		if reply, err := stream.Recv(); status.Code(err) != codes.DeadlineExceeded {
			t.Errorf("Watch(%q): second Recv = %v, %v; want the stream held open until the deadline", service, reply, err)
		}
		cancel()
	}
}

func TestServerInfo(t *testing.T) {
	conn, ctx := connect(t, nil)
	reply, err := serverinfo.NewServerInfoClient(conn).GetInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if reply.GetLanguage() != "go" || reply.GetImplementation() != "grpc-go" ||
		reply.GetVersion() != grpc.Version || reply.GetPid() != int32(os.Getpid()) {
		t.Errorf("GetInfo = %v", reply)
	}
}

func TestLotsOfRepliesBounds(t *testing.T) {
	conn, ctx := connect(t, nil)
	client := helloworld.NewStreamingGreeterClient(conn)
	for _, count := range []int32{-1, 10001} {
		stream, err := client.LotsOfReplies(ctx, &helloworld.HelloStreamRequest{Name: "a", Count: count})
		if err == nil {
			_, err = stream.Recv()
		}
		if s := status.Convert(err); s.Code() != codes.InvalidArgument || !strings.Contains(s.Message(), "count") {
			t.Errorf("LotsOfReplies(count=%d) error = %v, want INVALID_ARGUMENT naming count", count, err)
		}
	}
}

func TestEveryTenthSayHelloUnavailable(t *testing.T) {
	conn, ctx := connect(t, faults.Set{faults.UnaryEvery10thUnavailable: true})
	client := helloworld.NewGreeterClient(conn)
	for call := 1; call <= 30; call++ {
		_, err := client.SayHello(ctx, &helloworld.HelloRequest{Name: "n"})
		want := codes.OK
		if call%10 == 0 {
			want = codes.Unavailable
		}
		if got := status.Code(err); got != want {
			t.Errorf("call %d: status %v, want %v", call, got, want)
		}
	}
}
