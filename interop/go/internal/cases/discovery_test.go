package cases_test

import (
	"net"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"interopmatrix/internal/cases"
	"interopmatrix/internal/faults"
	"interopmatrix/internal/servertest"
)

// TestDiscoveryErrors: each discovery case a fault breaks names the call, what it expected and
// what came back.
func TestDiscoveryErrors(t *testing.T) {
	for _, tc := range []struct {
		fault faults.Name
		name  string
		want  string
	}{
		{faults.ReflectionIncomplete, "reflection_list_v1",
			`grpc.reflection.v1.ServerReflection/ServerReflectionInfo{list_services:""}: services: missing ["interop.scripted.Scripted"] (expected ["helloworld.Greeter" `},
		{faults.ReflectionIncomplete, "reflection_list_v1alpha",
			`grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo{list_services:""}: services: missing ["interop.scripted.Scripted"] (expected ["helloworld.Greeter" `},
		{faults.ReflectionIncomplete, "reflection_file_containing_symbol",
			`grpc.reflection.v1.ServerReflection/ServerReflectionInfo{file_containing_symbol:"interop.scripted.Scripted"}: expected a file_descriptor_response, got `},
		{faults.HealthWatchSilent, "health_watch_serving",
			`Health/Watch{service:""}: expected a first message with status SERVING, got status DeadlineExceeded `},
		{faults.HealthWatchSilent, "health_unknown_service",
			`Health/Watch{service:"no.such.Service"}: expected a first message with status SERVICE_UNKNOWN, got status DeadlineExceeded `},
		{faults.HealthServingAny, "health_unknown_service",
			`Health/Check{service:"no.such.Service"}: expected status NotFound, got OK`},
		{faults.HealthServicesNotServing, "health_unknown_service",
			`Health/Check{service:"helloworld.Greeter"}: expected "SERVING", got "NOT_SERVING"`},
		{faults.HealthServicesNotServing, "health_check_every_service",
			`Health/Check{service:"helloworld.Greeter"}: expected "SERVING", got "NOT_SERVING"`},
	} {
		err := cases.Run(tc.name, target(servertest.Start(t, faults.Set{tc.fault: true})))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s against %s: error %v, want %s…", tc.name, tc.fault, err, tc.want)
		}
	}
}

// unknownSymbolReflection is a v1 reflection server that answers file_containing_symbol of a
// symbol the test binary knows with the file declaring it, and of any other symbol with
// error_response code, or ends the stream with that status when endStream is set;
// list_services answers an empty list.
type unknownSymbolReflection struct {
	reflectionv1.UnimplementedServerReflectionServer
	code      codes.Code
	endStream bool
}

func (r unknownSymbolReflection) ServerReflectionInfo(stream reflectionv1.ServerReflection_ServerReflectionInfoServer) error {
	for {
		req, err := stream.Recv()
		if err != nil {
			return nil // the half-close, or the client gone
		}
		resp := &reflectionv1.ServerReflectionResponse{MessageResponse: &reflectionv1.ServerReflectionResponse_ListServicesResponse{
			ListServicesResponse: &reflectionv1.ListServiceResponse{},
		}}
		if symbol := req.GetFileContainingSymbol(); symbol != "" {
			if d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(symbol)); err == nil {
				file, err := proto.Marshal(protodesc.ToFileDescriptorProto(d.ParentFile()))
				if err != nil {
					return err
				}
				resp.MessageResponse = &reflectionv1.ServerReflectionResponse_FileDescriptorResponse{
					FileDescriptorResponse: &reflectionv1.FileDescriptorResponse{FileDescriptorProto: [][]byte{file}},
				}
			} else if r.endStream {
				return status.Error(r.code, "no such symbol")
			} else {
				resp.MessageResponse = &reflectionv1.ServerReflectionResponse_ErrorResponse{
					ErrorResponse: &reflectionv1.ErrorResponse{ErrorCode: int32(r.code), ErrorMessage: "no such symbol"},
				}
			}
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// TestReflectionUnknownSymbolChecks: reflection_file_containing_symbol, after its two lookups,
// passes against a server that answers an unknown symbol with error_response NOT_FOUND and goes
// on, and fails against one that answers another error code, or ends the stream instead.
func TestReflectionUnknownSymbolChecks(t *testing.T) {
	for _, tc := range []struct {
		server unknownSymbolReflection
		want   string
	}{
		{unknownSymbolReflection{code: codes.NotFound}, ""},
		{unknownSymbolReflection{code: codes.Unknown},
			`grpc.reflection.v1.ServerReflection/ServerReflectionInfo{file_containing_symbol:"no.such.Service"}: error_response.error_code: expected "NotFound", got "Unknown"`},
		{unknownSymbolReflection{code: codes.NotFound, endStream: true},
			`grpc.reflection.v1.ServerReflection/ServerReflectionInfo{file_containing_symbol:"no.such.Service"}: expected status OK, got NotFound "no such symbol"`},
	} {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := grpc.NewServer()
		reflectionv1.RegisterServerReflectionServer(s, tc.server)
		go s.Serve(lis)
		err = cases.Run("reflection_file_containing_symbol", target(lis.Addr().(*net.TCPAddr).Port))
		s.Stop()
		got := "" // passed
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("against %+v: error %q, want %q", tc.server, got, tc.want)
		}
	}
}

// TestHealthWatchUpdates: health_watch_updates passes against the Go server, twice on one server
// (each run watches a fresh name, so the first message is SERVICE_UNKNOWN again), and fails
// against health-watch-no-updates at the wait for SERVING and against health-watch-silent at the
// wait for the first message, each error naming the call and its fresh name.
func TestHealthWatchUpdates(t *testing.T) {
	tgt := target(servertest.Start(t, nil))
	for run := range 2 {
		if err := cases.Run("health_watch_updates", tgt); err != nil {
			t.Errorf("run %d: %v", run+1, err)
		}
	}
	const watch = `^Health/Watch\{service:"interop\.watched\.[0-9a-f]{16}"\}`
	for _, tc := range []struct {
		fault faults.Name
		want  string
	}{
		{faults.HealthWatchNoUpdates, watch + ` after set_health SERVING: expected a next message with status SERVING, got status DeadlineExceeded `},
		{faults.HealthWatchSilent, watch + `: expected a first message with status SERVICE_UNKNOWN, got status DeadlineExceeded `},
	} {
		err := cases.Run("health_watch_updates", target(servertest.Start(t, faults.Set{tc.fault: true})))
		if err == nil || !regexp.MustCompile(tc.want).MatchString(err.Error()) {
			t.Errorf("health_watch_updates against %s: error %v, want %s…", tc.fault, err, tc.want)
		}
	}
}
