package cases

import (
	"fmt"
	"slices"

	"google.golang.org/grpc"

	"interopmatrix/gen/testserver"
)

// randomCalls is how many GetRandom calls random_get makes.
const randomCalls = 20

// randomGet: every random number is in [0, 1000), every id is echoed, and the numbers vary.
func randomGet(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := testserver.NewTestServerClient(conn)
		randoms := make([]int32, 0, randomCalls)
		for i := 1; i <= randomCalls; i++ {
			id := fmt.Sprintf("req-%d", i)
			call := fmt.Sprintf("GetRandom(%q)", id)
			reply, err := invoke(t, client.GetRandom, &testserver.Request{Id: id})
			if err := expectOK(call+": id", err, id, reply.GetId()); err != nil {
				return err
			}
			if r := reply.GetRandom(); r < 0 || r >= 1000 {
				return fmt.Errorf("%s: expected random in [0, 1000), got %d", call, r)
			}
			randoms = append(randoms, reply.GetRandom())
		}
		if slices.Min(randoms) == slices.Max(randoms) {
			return fmt.Errorf("%d GetRandom calls: expected differing random values, got %d every time", randomCalls, randoms[0])
		}
		return nil
	})
}
