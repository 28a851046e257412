// The tools-as-clients peer (docs/peer-contract.md, "Tools as clients"): cmd/client follows
// the client contract and runs the real grpcurl and grpc-health-probe, each pinned in a module
// of its own (grpcurl/go.mod, grpc-health-probe/go.mod) and built by build.sh. The client
// itself uses the standard library only.
module interopmatrix/toolpeers

go 1.26.0
