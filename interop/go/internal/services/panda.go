package services

import (
	"context"
	"math"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"interopmatrix/gen/panda"
	"interopmatrix/internal/faults"
)

// pandaService is panda.Panda.
type pandaService struct {
	panda.UnimplementedPandaServer
	faults faults.Set
}

func (p *pandaService) Getinfo(_ context.Context, req *panda.GetinfoRequest) (*panda.GetinfoReply, error) {
	reply, err := increment(req.GetArg(), p.faults)
	if err != nil {
		return nil, err
	}
	return &panda.GetinfoReply{Reply: reply}, nil
}

// increment returns arg + 1, exactly; 2^63−1 is OUT_OF_RANGE. The panda-float64 fault
// computes the sum in float64 instead, but keeps the exact overflow check.
func increment(arg int64, f faults.Set) (int64, error) {
	if arg == math.MaxInt64 {
		return 0, status.Errorf(codes.OutOfRange, "arg + 1 would overflow int64 (arg = %d)", arg)
	}
	if f.Has(faults.PandaFloat64) {
		return int64(float64(arg) + 1), nil
	}
	return arg + 1, nil
}
