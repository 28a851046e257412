package services

import (
	"context"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"interopmatrix/gen/serverinfo"
	"interopmatrix/internal/faults"
)

// wrongVersion is the version the version-wrong fault reports.
const wrongVersion = "0.0.0-fault"

// serverInfo is interop.ServerInfo: which library, and which process, answered.
type serverInfo struct {
	serverinfo.UnimplementedServerInfoServer
	faults faults.Set
}

func (s serverInfo) GetInfo(context.Context, *emptypb.Empty) (*serverinfo.ServerInfoReply, error) {
	version := grpc.Version
	if s.faults.Has(faults.VersionWrong) {
		version = wrongVersion
	}
	return &serverinfo.ServerInfoReply{
		Language:       "go",
		Implementation: "grpc-go",
		Version:        version,
		Pid:            int32(os.Getpid()),
	}, nil
}
