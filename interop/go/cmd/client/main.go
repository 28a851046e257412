// Command client is the Go (grpc-go) peer's interop client (docs/peer-contract.md, "Client"):
// a one-shot run of the flags' cases, or with --executor alone the runs asked for on stdin
// ("Executor mode").
package main

import (
	"os"

	"interopmatrix/internal/cli"
	"interopmatrix/internal/client"
)

func main() {
	executor, err := client.ExecutorMode(os.Args[1:])
	cli.ExitOnFlagError("client", err)
	if executor {
		os.Exit(client.Execute(os.Stdin, os.Stdout, os.Stderr))
	}
	cfg, err := client.ParseFlags(os.Args[1:])
	cli.ExitOnFlagError("client", err)
	os.Exit(client.Run(cfg, os.Stdout, os.Stderr))
}
