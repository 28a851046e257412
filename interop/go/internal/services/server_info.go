package services

import (
	"context"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"interopmatrix/gen/serverinfo"
)

// serverInfo is interop.ServerInfo: which library, and which process, answered.
type serverInfo struct {
	serverinfo.UnimplementedServerInfoServer
}

func (serverInfo) GetInfo(context.Context, *emptypb.Empty) (*serverinfo.ServerInfoReply, error) {
	return &serverinfo.ServerInfoReply{
		Language:       "go",
		Implementation: "grpc-go",
		Version:        grpc.Version,
		Pid:            int32(os.Getpid()),
	}, nil
}
