package cases

import (
	"cmp"
	"fmt"
	"sync"

	"google.golang.org/grpc"

	"interopmatrix/gen/helloworld"
)

// concurrentCalls is how many SayHello calls concurrent_unary makes at once.
const concurrentCalls = 100

// concurrentUnary: 100 concurrent SayHello calls on one channel all get their own greeting.
func concurrentUnary(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := helloworld.NewGreeterClient(conn)
		errs := make([]error, concurrentCalls)
		var wg sync.WaitGroup
		for i := range concurrentCalls {
			wg.Go(func() { errs[i] = sayHello(t, client, fmt.Sprintf("user-%d", i)) })
		}
		wg.Wait()
		var first error
		failures := 0
		for _, err := range errs {
			if err != nil {
				first = cmp.Or(first, err)
				failures++
			}
		}
		if failures > 0 {
			return fmt.Errorf("%d of %d concurrent calls failed, the first: %w", failures, concurrentCalls, first)
		}
		return nil
	})
}
