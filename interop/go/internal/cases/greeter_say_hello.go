package cases

import (
	"google.golang.org/grpc"

	"interopmatrix/gen/helloworld"
)

// greeterSayHello: Greeter/SayHello greets an ASCII name and a name outside the BMP.
func greeterSayHello(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := helloworld.NewGreeterClient(conn)
		for _, name := range []string{"world", "世界🌏"} {
			if err := sayHello(t, client, name); err != nil {
				return err
			}
		}
		return nil
	})
}
