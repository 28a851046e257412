package cases

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
)

// bidiStream is the client side of a bidirectional stream (grpc-go 1.64's reflection stubs
// return a named interface, 1.72's and later grpc.BidiStreamingClient).
type bidiStream[Req, Resp any] interface {
	Send(*Req) error
	Recv() (*Resp, error)
	CloseSend() error
}

// reflectionAPI is one version of grpc.reflection's ServerReflection, as the discovery cases use
// it: Req and Resp are its ServerReflectionRequest and ServerReflectionResponse.
type reflectionAPI[Req, Resp any] struct {
	service string
	open    func(context.Context, *grpc.ClientConn) (bidiStream[Req, Resp], error)
	// listServices is the request {list_services:""}.
	listServices func() *Req
	// listed is the service names of a list_services_response; false when resp is not one.
	listed func(resp *Resp) ([]string, bool)
}

type (
	v1Request       = reflectionv1.ServerReflectionRequest
	v1Response      = reflectionv1.ServerReflectionResponse
	v1alphaRequest  = reflectionv1alpha.ServerReflectionRequest
	v1alphaResponse = reflectionv1alpha.ServerReflectionResponse
)

var reflectionV1 = reflectionAPI[v1Request, v1Response]{
	service: "grpc.reflection.v1.ServerReflection",
	open: func(ctx context.Context, conn *grpc.ClientConn) (bidiStream[v1Request, v1Response], error) {
		return reflectionv1.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	},
	listServices: func() *v1Request {
		return &v1Request{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{}}
	},
	listed: func(resp *v1Response) ([]string, bool) {
		list := resp.GetListServicesResponse()
		return serviceNames(list.GetService()), list != nil
	},
}

var reflectionV1alpha = reflectionAPI[v1alphaRequest, v1alphaResponse]{
	service: "grpc.reflection.v1alpha.ServerReflection",
	open: func(ctx context.Context, conn *grpc.ClientConn) (bidiStream[v1alphaRequest, v1alphaResponse], error) {
		return reflectionv1alpha.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	},
	listServices: func() *v1alphaRequest {
		return &v1alphaRequest{MessageRequest: &reflectionv1alpha.ServerReflectionRequest_ListServices{}}
	},
	listed: func(resp *v1alphaResponse) ([]string, bool) {
		list := resp.GetListServicesResponse()
		return serviceNames(list.GetService()), list != nil
	},
}

// serviceNames is the names of a list_services_response's services, of either version.
func serviceNames[S interface{ GetName() string }](services []S) []string {
	names := make([]string, len(services))
	for i, s := range services {
		names[i] = s.GetName()
	}
	return names
}

// reflectionStream is one ServerReflectionInfo stream, driven request by request.
type reflectionStream[Req, Resp any] struct {
	api    reflectionAPI[Req, Resp]
	stream bidiStream[Req, Resp]
}

// onStream opens a ServerReflectionInfo stream, with the RPC deadline, on a new channel and runs
// f on it.
func (api reflectionAPI[Req, Resp]) onStream(t Target, f func(reflectionStream[Req, Resp]) error) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		ctx, cancel := t.rpcContext()
		defer cancel()
		stream, err := api.open(ctx, conn)
		if err != nil {
			return failed(api.service+"/ServerReflectionInfo", err)
		}
		return f(reflectionStream[Req, Resp]{api, stream})
	})
}

// call names the stream's method and the request, e.g. {list_services:""}.
func (r reflectionStream[Req, Resp]) call(request string) string {
	return r.api.service + "/ServerReflectionInfo" + request
}

// ask sends req, described by request, and returns the one response it gets.
func (r reflectionStream[Req, Resp]) ask(request string, req *Req) (*Resp, error) {
	call := r.call(request)
	// A failed Send ends the call; the Recv below reports its status.
	_ = r.stream.Send(req)
	resp, err := r.stream.Recv()
	switch {
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%s: expected a response, got the end of the stream", call)
	case err != nil:
		return nil, failed(call, err)
	}
	return resp, nil
}

// listServicesRequest is how errors show the request {list_services:""}.
const listServicesRequest = `{list_services:""}`

// listServices asks {list_services:""} and returns the names of the list_services_response.
func (r reflectionStream[Req, Resp]) listServices() ([]string, error) {
	const request = listServicesRequest
	resp, err := r.ask(request, r.api.listServices())
	if err != nil {
		return nil, err
	}
	names, ok := r.api.listed(resp)
	if !ok {
		return nil, fmt.Errorf("%s: expected a list_services_response, got %v", r.call(request), resp)
	}
	return names, nil
}

// end half-closes the stream and checks that it then ends OK, with no further response.
func (r reflectionStream[Req, Resp]) end() error {
	call := r.call("") + ": after half-close"
	if err := r.stream.CloseSend(); err != nil {
		return failed(r.call("")+": half-close", err)
	}
	resp, err := r.stream.Recv()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return failed(call, err)
	}
	return fmt.Errorf("%s: expected the end of the stream, got a response %v", call, resp)
}
