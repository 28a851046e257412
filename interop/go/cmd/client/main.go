// Command client is the Go (grpc-go) peer's interop client (docs/peer-contract.md, "Client").
package main

import (
	"os"

	"interopmatrix/internal/cli"
	"interopmatrix/internal/client"
)

func main() {
	cfg, err := client.ParseFlags(os.Args[1:])
	cli.ExitOnFlagError("client", err)
	os.Exit(client.Run(cfg, os.Stdout, os.Stderr))
}
