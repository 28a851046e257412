package cases

import (
	"google.golang.org/grpc"

	"interopmatrix/gen/helloworld"
)

// greeterSayHelloAgain: both Greeter methods, in order, on one channel.
func greeterSayHelloAgain(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := helloworld.NewGreeterClient(conn)
		if err := sayHello(t, client, "world"); err != nil {
			return err
		}
		reply, err := invoke(t, client.SayHelloAgain, &helloworld.HelloRequest{Name: "world"})
		return expectOK(`SayHelloAgain("world")`, err, "Hello again, world!", reply.GetMessage())
	})
}
