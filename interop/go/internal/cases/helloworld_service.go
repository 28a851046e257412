package cases

import (
	"google.golang.org/grpc"

	"interopmatrix/gen/rpcpackage"
)

// helloworldService: the Greeter under another package and service name.
func helloworldService(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := rpcpackage.NewHelloWorldServiceClient(conn)
		reply, err := invoke(t, client.SayHello, &rpcpackage.HelloRequest{Name: "shen"})
		return expectOK(`HelloWorldService/SayHello("shen")`, err, "Hello, shen!", reply.GetMessage())
	})
}
