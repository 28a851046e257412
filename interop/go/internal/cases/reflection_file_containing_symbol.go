package cases

import (
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// v1Stream is a grpc.reflection.v1 ServerReflectionInfo stream.
type v1Stream = reflectionStream[v1Request, v1Response]

// scriptedMethods is interop.scripted.Scripted's methods as protos/interop/scripted.proto
// declares them, rendered by methodShape.
var scriptedMethods = []string{
	"Unary client_streaming=false server_streaming=false",
	"ServerStream client_streaming=false server_streaming=true",
	"ClientStream client_streaming=true server_streaming=false",
	"BidiStream client_streaming=true server_streaming=true",
}

// reflectionFileContainingSymbol: on one grpc.reflection.v1 stream, file_containing_symbol of
// a service and of a message each answer with the file declaring it (its imports may come
// too); of an unknown symbol, error_response NOT_FOUND, and the stream goes on: list_services
// still answers, and the stream ends OK after the half-close.
func reflectionFileContainingSymbol(t Target) error {
	return reflectionV1.onStream(t, func(r v1Stream) error {
		call, files, err := fileContainingSymbol(r, "interop.scripted.Scripted")
		if err != nil {
			return err
		}
		service, err := declared(call, files, "interop.scripted", "service", "Scripted", (*descriptorpb.FileDescriptorProto).GetService)
		if err != nil {
			return err
		}
		methods := make([]string, len(service.GetMethod()))
		for i, m := range service.GetMethod() {
			methods[i] = methodShape(m)
		}
		if err := expect(call+": service Scripted's methods", strings.Join(scriptedMethods, "; "), strings.Join(methods, "; ")); err != nil {
			return err
		}
		call, files, err = fileContainingSymbol(r, "helloworld.HelloRequest")
		if err != nil {
			return err
		}
		if _, err := declared(call, files, "helloworld", "message", "HelloRequest", (*descriptorpb.FileDescriptorProto).GetMessageType); err != nil {
			return err
		}
		if err := unknownSymbol(r, "no.such.Service"); err != nil {
			return err
		}
		if _, err := r.listServices(); err != nil {
			return err
		}
		return r.end()
	})
}

// unknownSymbol asks {file_containing_symbol:symbol} of a symbol the server does not know and
// checks that it answers error_response NOT_FOUND.
func unknownSymbol(r v1Stream, symbol string) error {
	request, req := symbolRequest(symbol)
	resp, err := r.ask(request, req)
	if err != nil {
		return err
	}
	if resp.GetErrorResponse() == nil {
		return fmt.Errorf("%s: expected an error_response, got %v", r.call(request), resp)
	}
	code := codes.Code(resp.GetErrorResponse().GetErrorCode())
	return expect(r.call(request)+": error_response.error_code", codes.NotFound.String(), code.String())
}

// fileContainingSymbol asks {file_containing_symbol:symbol} and decodes the files of the
// file_descriptor_response; call names the request.
func fileContainingSymbol(r v1Stream, symbol string) (call string, files []*descriptorpb.FileDescriptorProto, err error) {
	request, req := symbolRequest(symbol)
	call = r.call(request)
	resp, err := r.ask(request, req)
	if err != nil {
		return call, nil, err
	}
	if resp.GetFileDescriptorResponse() == nil {
		return call, nil, fmt.Errorf("%s: expected a file_descriptor_response, got %v", call, resp)
	}
	for i, b := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
		file := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(b, file); err != nil {
			return call, nil, fmt.Errorf("%s: file_descriptor_proto %d is not a FileDescriptorProto: %v", call, i, err)
		}
		files = append(files, file)
	}
	return call, files, nil
}

// symbolRequest is the request {file_containing_symbol:symbol}, and how errors show it.
func symbolRequest(symbol string) (string, *v1Request) {
	return fmt.Sprintf("{file_containing_symbol:%q}", symbol),
		&v1Request{MessageRequest: &reflectionv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol}}
}

// declared finds the declaration kind (service, message) name, among those decls lists, in the
// files of package pkg.
func declared[D interface{ GetName() string }](call string, files []*descriptorpb.FileDescriptorProto, pkg, kind, name string, decls func(*descriptorpb.FileDescriptorProto) []D) (D, error) {
	shown := make([]string, len(files))
	for i, file := range files {
		shown[i] = fmt.Sprintf("%s (package %q)", file.GetName(), file.GetPackage())
		if file.GetPackage() != pkg {
			continue
		}
		for _, d := range decls(file) {
			if d.GetName() == name {
				return d, nil
			}
		}
	}
	var none D
	return none, fmt.Errorf("%s: expected a file of package %q declaring %s %s, got %d files: %s", call, pkg, kind, name, len(files), strings.Join(shown, ", "))
}

// methodShape renders a method's name and whether each side streams.
func methodShape(m *descriptorpb.MethodDescriptorProto) string {
	return fmt.Sprintf("%s client_streaming=%t server_streaming=%t", m.GetName(), m.GetClientStreaming(), m.GetServerStreaming())
}
