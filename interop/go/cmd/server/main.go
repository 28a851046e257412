// Command server is the Go (grpc-go) peer's interop server (docs/peer-contract.md, "Server").
package main

import (
	"fmt"
	"log"
	"os"

	"interopmatrix/internal/cli"
	"interopmatrix/internal/server"
)

func main() {
	cfg, err := server.ParseFlags(os.Args[1:])
	cli.ExitOnFlagError("server", err)
	log.SetPrefix(fmt.Sprintf("go-server[%d] ", os.Getpid()))
	if err := server.Run(cfg); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}
