package services_test

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// TestHealthServingAnyFault: with health-serving-any, Check and Watch answer SERVING for any
// name, the readiness probe's "" included.
func TestHealthServingAnyFault(t *testing.T) {
	conn, ctx := connect(t, faults.Set{faults.HealthServingAny: true})
	client := health.NewHealthClient(conn)
	for _, service := range []string{"", "helloworld.Greeter", "no.such.Service", "grpc.testing.UnimplementedService"} {
		if reply, err := client.Check(ctx, &health.HealthCheckRequest{Service: service}); err != nil || reply.GetStatus() != health.HealthCheckResponse_SERVING {
			t.Errorf("health-serving-any: Check(%q) = %v, %v; want SERVING", service, reply, err)
		}
		watchCtx, cancel := context.WithCancel(ctx)
		stream, err := client.Watch(watchCtx, &health.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatal(err)
		}
		if reply, err := stream.Recv(); err != nil || reply.GetStatus() != health.HealthCheckResponse_SERVING {
			t.Errorf("health-serving-any: Watch(%q) first reply = %v, %v; want SERVING", service, reply, err)
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

func TestVersionWrongFault(t *testing.T) {
	conn, ctx := connect(t, faults.Set{faults.VersionWrong: true})
	reply, err := serverinfo.NewServerInfoClient(conn).GetInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if reply.GetVersion() != "0.0.0-fault" || reply.GetLanguage() != "go" || reply.GetImplementation() != "grpc-go" || reply.GetPid() != int32(os.Getpid()) {
		t.Errorf("version-wrong: GetInfo = %v, want version 0.0.0-fault and the rest right", reply)
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

// countReplies reads a whole LotsOfReplies stream: how many replies, and its status.
func countReplies(ctx context.Context, client helloworld.StreamingGreeterClient, count int32) (int, error) {
	stream, err := client.LotsOfReplies(ctx, &helloworld.HelloStreamRequest{Name: "m", Count: count})
	if err != nil {
		return 0, err
	}
	for n := 0; ; n++ {
		if _, err := stream.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
	}
}

// TestLotsOfRepliesCountLimitFaults: the boundary, 10000 and 10001, with each count-limit fault.
func TestLotsOfRepliesCountLimitFaults(t *testing.T) {
	for _, tc := range []struct {
		fault       faults.Name
		count       int32
		wantReplies int
		wantCode    codes.Code
	}{
		{"", 10000, 10000, codes.OK},
		{"", 10001, 0, codes.InvalidArgument},
		{faults.CountLimitLow, 9999, 9999, codes.OK},
		{faults.CountLimitLow, 10000, 0, codes.InvalidArgument},
		{faults.CountLimitNone, 10001, 10001, codes.OK},
		{faults.CountLimitNone, -1, 0, codes.InvalidArgument},
	} {
		f := faults.Set{}
		if tc.fault != "" {
			f[tc.fault] = true
		}
		conn, ctx := connect(t, f)
		n, err := countReplies(ctx, helloworld.NewStreamingGreeterClient(conn), tc.count)
		if n != tc.wantReplies || status.Code(err) != tc.wantCode {
			t.Errorf("faults %q: LotsOfReplies(count=%d) = %d replies, %v; want %d, %v", f, tc.count, n, err, tc.wantReplies, tc.wantCode)
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
