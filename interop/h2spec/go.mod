// The h2spec peer's client (docs/peer-contract.md, "h2spec"): runs the pinned h2spec binary
// (tool/go.mod, built by build.sh) once per test against the server and reads its JUnit report.
// Standard library only.
module interopmatrix/h2spec

go 1.26.0
