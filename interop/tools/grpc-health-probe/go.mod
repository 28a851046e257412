// grpc-health-probe (github.com/grpc-ecosystem/grpc-health-probe), pinned for the
// tools-as-clients peer (../build.sh, docs/peer-contract.md "Tools as clients"). A module of
// its own, so that it is built with exactly the dependency versions of its own go.mod.
module interopmatrix/toolpeers/grpc-health-probe

// grpc-health-probe's own go.mod says go 1.26.0 (so it needs Go 1.26 to build).
go 1.26.0

tool github.com/grpc-ecosystem/grpc-health-probe

require (
	github.com/Microsoft/go-winio v0.6.2 // indirect
	github.com/go-jose/go-jose/v4 v4.1.6 // indirect
	github.com/grpc-ecosystem/grpc-health-probe v0.4.63 // indirect
	github.com/spiffe/go-spiffe/v2 v2.9.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
	google.golang.org/grpc v1.85.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
