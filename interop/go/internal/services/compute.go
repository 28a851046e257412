package services

import (
	"context"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"interopmatrix/gen/compute"
	"interopmatrix/internal/faults"
)

// computeService is compute.Compute.
type computeService struct {
	compute.UnimplementedComputeServer
	faults faults.Set
}

func (c *computeService) SayHello(_ context.Context, req *compute.HelloRequest) (*compute.HelloReply, error) {
	return &compute.HelloReply{Result: strconv.Itoa(length(req.GetHelloworld(), c.faults))}, nil
}

// length counts s in Unicode code points ("你好😈" → 3), or in the wrong unit a fault asks for.
func length(s string, f faults.Set) int {
	switch {
	case f.Has(faults.LengthUTF16):
		return len(utf16.Encode([]rune(s)))
	case f.Has(faults.LengthBytes):
		return len(s)
	default:
		return utf8.RuneCountInString(s)
	}
}
