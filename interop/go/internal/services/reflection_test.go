package services_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"interopmatrix/gen/health"
	"interopmatrix/internal/cases"
	"interopmatrix/internal/faults"
)

// servedServices is the contract's served services and reflectionServices grpc-go's reflection
// services: reflection lists both (reflection.Register lists whatever the server serves).
var (
	servedServices     = cases.ServedServices()
	reflectionServices = []string{"grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"}
)

// reflectionStream opens a ServerReflectionInfo stream of service, v1 or v1alpha. The test
// speaks v1's messages to both: v1alpha's are the same on the wire (same fields and numbers).
func reflectionStream(t *testing.T, ctx context.Context, conn *grpc.ClientConn, service string) grpc.ClientStream {
	t.Helper()
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, "/"+service+"/ServerReflectionInfo")
	if err != nil {
		t.Fatal(err)
	}
	return stream
}

// ask sends req on stream and returns its response.
func ask(t *testing.T, stream grpc.ClientStream, req *reflectionv1.ServerReflectionRequest) *reflectionv1.ServerReflectionResponse {
	t.Helper()
	resp := &reflectionv1.ServerReflectionResponse{}
	if err := stream.SendMsg(req); err != nil {
		t.Fatalf("send %v: %v", req, err)
	}
	if err := stream.RecvMsg(resp); err != nil {
		t.Fatalf("%v: %v", req, err)
	}
	return resp
}

func listServices(t *testing.T, stream grpc.ClientStream) []string {
	t.Helper()
	resp := ask(t, stream, &reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{}})
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names
}

// fileContainingSymbol asks for the file of symbol: its files, decoded, or the error_response.
func fileContainingSymbol(t *testing.T, stream grpc.ClientStream, symbol string) ([]*descriptorpb.FileDescriptorProto, *reflectionv1.ErrorResponse) {
	t.Helper()
	resp := ask(t, stream, &reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol}})
	var files []*descriptorpb.FileDescriptorProto
	for _, b := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
		file := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(b, file); err != nil {
			t.Fatalf("file_containing_symbol %q: %v", symbol, err)
		}
		files = append(files, file)
	}
	return files, resp.GetErrorResponse()
}

// TestReflectionListsEveryService: v1 and v1alpha list exactly what the server serves, sorted:
// the served services and the reflection services themselves.
func TestReflectionListsEveryService(t *testing.T) {
	conn, ctx := connect(t, nil)
	want := slices.Sorted(slices.Values(slices.Concat(servedServices, reflectionServices)))
	for _, service := range reflectionServices {
		if got := listServices(t, reflectionStream(t, ctx, conn, service)); !slices.Equal(got, want) {
			t.Errorf("%s list_services = %q, want %q", service, got, want)
		}
	}
}

// TestReflectionDescribesEveryServedService: file_containing_symbol of each served service
// answers its file first, then every file it imports, directly or not.
func TestReflectionDescribesEveryServedService(t *testing.T) {
	conn, ctx := connect(t, nil)
	for _, service := range servedServices {
		// A new stream each: on one stream, grpc-go sends each import only once.
		files, errResp := fileContainingSymbol(t, reflectionStream(t, ctx, conn, "grpc.reflection.v1.ServerReflection"), service)
		if errResp != nil || len(files) == 0 {
			t.Errorf("%s: files %v, error_response %v", service, files, errResp)
			continue
		}
		declares := slices.ContainsFunc(files[0].GetService(), func(s *descriptorpb.ServiceDescriptorProto) bool {
			name := s.GetName()
			if pkg := files[0].GetPackage(); pkg != "" {
				name = pkg + "." + name
			}
			return name == service
		})
		if !declares {
			t.Errorf("%s: the first file, %s, does not declare it", service, files[0].GetName())
		}
		names := map[string]bool{}
		for _, f := range files {
			names[f.GetName()] = true
		}
		for _, f := range files {
			for _, dep := range f.GetDependency() {
				if !names[dep] {
					t.Errorf("%s: %s imports %s, which is not among the files", service, f.GetName(), dep)
				}
			}
		}
	}
}

// TestReflectionIncompleteFault: with reflection-incomplete, v1 and v1alpha list every service
// but interop.scripted.Scripted and answer NOT_FOUND for any symbol under interop.scripted, on
// a stream that goes on; every other symbol still resolves.
func TestReflectionIncompleteFault(t *testing.T) {
	conn, ctx := connect(t, faults.Set{faults.ReflectionIncomplete: true})
	want := slices.Sorted(slices.Values(slices.Concat(servedServices, reflectionServices)))
	want = slices.DeleteFunc(want, func(name string) bool { return name == "interop.scripted.Scripted" })
	for _, service := range reflectionServices {
		stream := reflectionStream(t, ctx, conn, service)
		if got := listServices(t, stream); !slices.Equal(got, want) {
			t.Errorf("reflection-incomplete: %s list_services = %q, want %q", service, got, want)
		}
		for _, symbol := range []string{"interop.scripted.Scripted", "interop.scripted.Scripted.Unary", "interop.scripted.ScriptedRequest", "interop.scripted"} {
			if files, errResp := fileContainingSymbol(t, stream, symbol); codes.Code(errResp.GetErrorCode()) != codes.NotFound || files != nil {
				t.Errorf("reflection-incomplete: %s file_containing_symbol %q = %d files, error_response %v; want NOT_FOUND", service, symbol, len(files), errResp)
			}
		}
		for _, symbol := range []string{"helloworld.Greeter", "helloworld.HelloRequest", "grpc.testing.TestService.UnaryCall"} {
			if files, errResp := fileContainingSymbol(t, stream, symbol); errResp != nil || len(files) == 0 {
				t.Errorf("reflection-incomplete: %s file_containing_symbol %q = %d files, error_response %v; want its file", service, symbol, len(files), errResp)
			}
		}
	}
	// A correct server resolves the same symbols.
	conn, ctx = connect(t, nil)
	stream := reflectionStream(t, ctx, conn, "grpc.reflection.v1.ServerReflection")
	for _, symbol := range []string{"interop.scripted.Scripted.Unary", "interop.scripted.ScriptedRequest"} {
		if files, errResp := fileContainingSymbol(t, stream, symbol); errResp != nil || len(files) == 0 {
			t.Errorf("file_containing_symbol %q = %d files, error_response %v; want its file", symbol, len(files), errResp)
		}
	}
}

// TestHealthWatchSilentFault: with health-watch-silent, Watch sends nothing and holds the
// stream open until the client gives up; Check still answers.
func TestHealthWatchSilentFault(t *testing.T) {
	conn, ctx := connect(t, faults.Set{faults.HealthWatchSilent: true})
	client := health.NewHealthClient(conn)
	for _, service := range []string{"", "panda.Panda", "nope"} {
		watchCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		stream, err := client.Watch(watchCtx, &health.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatal(err)
		}
		if reply, err := stream.Recv(); status.Code(err) != codes.DeadlineExceeded {
			t.Errorf("health-watch-silent: Watch(%q) Recv = %v, %v; want nothing until the deadline", service, reply, err)
		}
		cancel()
	}
	if reply, err := client.Check(ctx, &health.HealthCheckRequest{Service: ""}); err != nil || reply.GetStatus() != health.HealthCheckResponse_SERVING {
		t.Errorf("health-watch-silent: Check(\"\") = %v, %v; want SERVING", reply, err)
	}
}

// TestHealthServicesNotServingFault: with health-services-not-serving, Check and Watch answer
// NOT_SERVING for every served service; "" (the readiness probe's) stays SERVING and an unknown
// name stays NOT_FOUND / SERVICE_UNKNOWN.
func TestHealthServicesNotServingFault(t *testing.T) {
	conn, ctx := connect(t, faults.Set{faults.HealthServicesNotServing: true})
	client := health.NewHealthClient(conn)
	want := map[string]health.HealthCheckResponse_ServingStatus{
		"":                health.HealthCheckResponse_SERVING,
		"no.such.Service": health.HealthCheckResponse_SERVICE_UNKNOWN,
	}
	for _, service := range servedServices {
		want[service] = health.HealthCheckResponse_NOT_SERVING
	}
	for service, want := range want {
		reply, err := client.Check(ctx, &health.HealthCheckRequest{Service: service})
		if want == health.HealthCheckResponse_SERVICE_UNKNOWN {
			if status.Code(err) != codes.NotFound {
				t.Errorf("health-services-not-serving: Check(%q) = %v, %v; want NOT_FOUND", service, reply, err)
			}
		} else if err != nil || reply.GetStatus() != want {
			t.Errorf("health-services-not-serving: Check(%q) = %v, %v; want %v", service, reply, err, want)
		}
		watchCtx, cancel := context.WithCancel(ctx)
		stream, err := client.Watch(watchCtx, &health.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatal(err)
		}
		if reply, err := stream.Recv(); err != nil || reply.GetStatus() != want {
			t.Errorf("health-services-not-serving: Watch(%q) first reply = %v, %v; want %v", service, reply, err, want)
		}
		cancel()
	}
}
