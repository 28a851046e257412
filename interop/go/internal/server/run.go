package server

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"interopmatrix/internal/faults"
)

// gracePeriod is how long in-flight calls may run on after a stop signal before they are cancelled.
const gracePeriod = time.Second

// Run serves until SIGTERM or SIGINT, then stops gracefully and returns nil. It prints the
// listening line on stdout once this process and every worker it started are ready.
func Run(cfg Config) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return Serve(ctx, cfg, os.Stdout)
}

// Serve serves until ctx is done, then stops gracefully and returns nil. It prints the listening
// line on stdout once this process and every worker it started are ready. One grpc.Server serves
// every listener (Host:Port, and [::1], the second host and the Unix socket when asked for),
// until a scripted call's restart replaces it with a new one on the same addresses (serving); a
// restart that cannot bind ends Serve with its error.
func Serve(ctx context.Context, cfg Config, stdout io.Writer) error {
	if cfg.ParentPID != 0 && os.Getppid() != cfg.ParentPID {
		return fmt.Errorf("parent %d exited before this worker started", cfg.ParentPID)
	}
	creds, err := cfg.credentials()
	if err != nil {
		return err
	}
	listeners, port, err := cfg.listenAll()
	if err != nil {
		return err
	}
	addresses := make([]string, len(listeners))
	for i, lis := range listeners {
		addresses[i] = lis.Addr().String()
	}
	bound := cfg
	bound.Port = port // a restart binds this port again, not a new ephemeral one
	p := newServing(bound, slices.Concat([]grpc.ServerOption{grpc.Creds(creds)}, cfg.limitOptions(), cfg.Lifecycle.options()))
	p.serve(listeners)

	pool, err := startWorkers(ctx, cfg, port)
	if err != nil {
		p.stop((*grpc.Server).Stop)
		if ctx.Err() != nil {
			return nil // stopped by a signal while starting: a clean stop
		}
		return err
	}
	if err := announce(stdout, port); err != nil {
		p.stop((*grpc.Server).Stop)
		pool.stop(syscall.SIGTERM)
		return err
	}
	role := fmt.Sprintf("%d process(es)", cfg.extraWorkers()+1)
	if cfg.ParentPID != 0 {
		role = fmt.Sprintf("worker of %d", cfg.ParentPID)
	}
	log.Printf("serving on %s (%s, %s), faults %q%s", strings.Join(addresses, ", "), role, creds.Info().SecurityProtocol, cfg.Faults, limitsNote(cfg))
	if cfg.SecondHost != "" && cfg.Faults.Has(faults.ScriptedSecondHostIgnored) {
		log.Printf("--second_host=%s ignored (scripted-second-host-ignored)", cfg.SecondHost)
	}
	logLifecycle(cfg)

	select {
	case <-ctx.Done():
		log.Print("stopping")
	case err = <-p.failed:
		log.Printf("serving failed: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { pool.stop(syscall.SIGTERM) })
	p.stop(stopGracefully) // the current server: the first, or the one a restart made
	wg.Wait()
	return err
}

// stopGracefully stops accepting, lets in-flight calls end for at most gracePeriod, then
// cancels the rest.
func stopGracefully(s *grpc.Server) {
	done := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(gracePeriod):
		s.Stop()
		<-done
	}
}

// limitsNote describes the message size limits of the command line for the start-up log.
func limitsNote(cfg Config) string {
	note := ""
	if cfg.MaxReceive != nil {
		note += fmt.Sprintf(", max receive %d bytes", *cfg.MaxReceive)
	}
	if cfg.MaxSend != nil {
		note += fmt.Sprintf(", max send %d bytes", *cfg.MaxSend)
	}
	return note
}

// logLifecycle writes the lifecycle flags given on stderr, one line, and a line for each value
// grpc-go does not apply as given (Lifecycle.notes); under scripted-lifecycle-ignored, that they
// are ignored.
func logLifecycle(cfg Config) {
	args := cfg.Lifecycle.args()
	if len(args) == 0 {
		return
	}
	if cfg.Faults.Has(faults.ScriptedLifecycleIgnored) {
		log.Printf("%s ignored (scripted-lifecycle-ignored): grpc-go's defaults", strings.Join(args, " "))
		return
	}
	log.Printf("connection lifecycle: %s", strings.Join(args, " "))
	for _, note := range cfg.Lifecycle.notes() {
		log.Print(note)
	}
}
