package cases

import (
	"fmt"
	"math"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"interopmatrix/gen/panda"
)

// pandaGetinfo: arg + 1 is exact over the whole int64 range, beyond float64's 2^53, and
// 2^63−1 overflows.
func pandaGetinfo(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		client := panda.NewPandaClient(conn)
		for _, c := range []struct{ arg, reply int64 }{
			{123, 124},
			{9007199254740993, 9007199254740994},
			{math.MinInt64, math.MinInt64 + 1},
		} {
			reply, err := invoke(t, client.Getinfo, &panda.GetinfoRequest{Arg: c.arg})
			if err := expectOK(fmt.Sprintf("Getinfo(%d)", c.arg), err, c.reply, reply.GetReply()); err != nil {
				return err
			}
		}
		_, err := invoke(t, client.Getinfo, &panda.GetinfoRequest{Arg: math.MaxInt64})
		return expectStatus(fmt.Sprintf("Getinfo(%d)", int64(math.MaxInt64)), err, codes.OutOfRange, "")
	})
}
