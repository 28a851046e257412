// h2spec (github.com/summerwind/h2spec/cmd/h2spec), pinned for the http2 suite
// (../build.sh, docs/peer-contract.md "h2spec"): built unchanged from the Go module proxy with
// the dependency versions resolved here. h2spec 2.2.1 predates Go modules (it has a Gopkg.toml),
// hence +incompatible. list/ prints the ids of its tests from the same packages.
module interopmatrix/h2spec/tool

go 1.26.0

tool github.com/summerwind/h2spec/cmd/h2spec

require github.com/summerwind/h2spec v2.2.1+incompatible

require (
	github.com/fatih/color v1.19.0 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/spf13/cobra v1.10.2 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	golang.org/x/net v0.63.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)
