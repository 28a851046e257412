package services

import (
	"context"
	"math/rand/v2"

	"interopmatrix/gen/testserver"
	"interopmatrix/internal/faults"
)

// randomService is the package-less TestServer service.
type randomService struct {
	testserver.UnimplementedTestServerServer
	faults faults.Set
}

func (r *randomService) GetRandom(_ context.Context, req *testserver.Request) (*testserver.Response, error) {
	random := rand.Int32N(1000)
	if r.faults.Has(faults.RandomConstant) {
		random = 7
	}
	return &testserver.Response{Random: random, Id: req.GetId()}, nil
}
