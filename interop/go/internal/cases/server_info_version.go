package cases

import (
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"interopmatrix/gen/serverinfo"
)

// serverInfoObserved is what ServerInfo/GetInfo told the client about the server's library:
// server_info_version's "observed", for the runner to judge.
type serverInfoObserved struct {
	Language       string `json:"language"`
	Implementation string `json:"implementation"`
	Version        string `json:"version"`
}

// serverInfoVersion: ServerInfo/GetInfo{} succeeds, and the case reports what it returned.
// The runner checks the version against the library installed for the server: the client
// cannot know it.
func serverInfoVersion(t Target) error {
	return t.onChannel(func(conn *grpc.ClientConn) error {
		reply, err := invoke(t, serverinfo.NewServerInfoClient(conn).GetInfo, &emptypb.Empty{})
		if err != nil {
			return failed("ServerInfo/GetInfo", err)
		}
		t.report(serverInfoObserved{Language: reply.GetLanguage(), Implementation: reply.GetImplementation(), Version: reply.GetVersion()})
		return nil
	})
}
