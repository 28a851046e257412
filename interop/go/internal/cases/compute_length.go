package cases

import (
	"fmt"

	"google.golang.org/grpc"

	"interopmatrix/gen/compute"
)

// computeLength: lengths are counted in Unicode code points, not bytes or UTF-16 units.
func computeLength(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := compute.NewComputeClient(conn)
		for _, c := range []struct{ text, length string }{
			{"123456", "6"},
			{"你好😈", "3"},
			{"", "0"},
		} {
			reply, err := invoke(t, client.SayHello, &compute.HelloRequest{Helloworld: c.text})
			if err := expectOK(fmt.Sprintf("Compute/SayHello(%q)", c.text), err, c.length, reply.GetResult()); err != nil {
				return err
			}
		}
		return nil
	})
}
