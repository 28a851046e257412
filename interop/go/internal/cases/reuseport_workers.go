package cases

import (
	"fmt"
	"maps"
	"slices"

	"google.golang.org/protobuf/types/known/emptypb"

	"interopmatrix/gen/serverinfo"
)

// workerChannels is how many channels reuseport_workers opens.
const workerChannels = 16

// reuseportWorkers: against a server started with --workers=4, separate channels (grpc-go
// never shares a connection between channels) are answered by at least 2 processes.
func reuseportWorkers(t Target) error {
	pids := map[int32]bool{}
	for i := range workerChannels {
		conn, err := t.Dial()
		if err != nil {
			return err
		}
		defer conn.Close() // all channels stay open to the end, each on its own connection
		reply, err := invoke(t, serverinfo.NewServerInfoClient(conn).GetInfo, &emptypb.Empty{})
		if err != nil {
			return failed(fmt.Sprintf("ServerInfo/GetInfo on channel %d of %d", i+1, workerChannels), err)
		}
		pids[reply.GetPid()] = true
	}
	if len(pids) < 2 {
		return fmt.Errorf("ServerInfo/GetInfo on %d channels: expected at least 2 distinct pids, got %v",
			workerChannels, slices.Sorted(maps.Keys(pids)))
	}
	return nil
}
