package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

const (
	// workerStartTimeout bounds how long the parent waits for its workers' listening lines.
	workerStartTimeout = 10 * time.Second
	// workerStopTimeout bounds how long the parent waits for a signalled worker to exit
	// before it kills it.
	workerStopTimeout = 3 * time.Second
)

// workerPool is the extra processes of --workers: copies of this program that serve the
// parent's port with SO_REUSEPORT.
type workerPool struct {
	workers []*worker
}

type worker struct {
	cmd    *exec.Cmd
	ready  chan string   // the first line the worker printed ("" if it printed none)
	exited chan struct{} // closed once the worker has exited and been reaped
}

// startWorkers starts cfg.extraWorkers() workers on port and returns once all of them are
// serving; on failure it stops the ones it started.
func startWorkers(ctx context.Context, cfg Config, port int) (*workerPool, error) {
	pool := &workerPool{}
	if cfg.extraWorkers() == 0 {
		return pool, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--host=" + cfg.Host,
		"--port=" + strconv.Itoa(port),
		"--fault=" + cfg.Faults.String(),
		"--worker_parent=" + strconv.Itoa(os.Getpid()),
	}, cfg.tlsArgs()...)
	args = append(args, cfg.limitArgs()...)
	args = append(args, cfg.Lifecycle.args()...)
	for range cfg.extraWorkers() {
		w, err := startWorker(exe, args)
		if err != nil {
			pool.stop(os.Kill)
			return nil, err
		}
		pool.workers = append(pool.workers, w)
	}
	if err := pool.awaitReady(ctx, port); err != nil {
		pool.stop(os.Kill)
		return nil, err
	}
	return pool, nil
}

// startWorker starts one worker, which gets SIGTERM if this process dies, and reads its
// stdout, where a server prints nothing but its listening line.
func startWorker(exe string, args []string) (*worker, error) {
	stdout, stdoutWriter, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout = stdoutWriter
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	err = cmd.Start()
	stdoutWriter.Close()
	if err != nil {
		stdout.Close()
		return nil, fmt.Errorf("starting a worker: %w", err)
	}
	w := &worker{cmd: cmd, ready: make(chan string, 1), exited: make(chan struct{})}
	go func() {
		defer stdout.Close()
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		w.ready <- line
		io.Copy(io.Discard, r) // until the worker exits
	}()
	go func() {
		log.Printf("worker %d exited: %v", cmd.Process.Pid, cmd.Wait())
		close(w.exited)
	}()
	return w, nil
}

// awaitReady waits until every worker has announced port.
func (p *workerPool) awaitReady(ctx context.Context, port int) error {
	timeout := time.After(workerStartTimeout)
	for _, w := range p.workers {
		select {
		case line := <-w.ready:
			if got, err := parseListening(line); err != nil || got != port {
				return fmt.Errorf("worker %d did not start serving port %d: it printed %q", w.cmd.Process.Pid, port, line)
			}
		case <-timeout:
			return fmt.Errorf("worker %d not ready after %v", w.cmd.Process.Pid, workerStartTimeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// stop sends sig to every worker and waits for them to exit, killing any still running
// after workerStopTimeout.
func (p *workerPool) stop(sig os.Signal) {
	for _, w := range p.workers {
		w.cmd.Process.Signal(sig)
	}
	ctx, cancel := context.WithTimeout(context.Background(), workerStopTimeout)
	defer cancel()
	for _, w := range p.workers {
		select {
		case <-w.exited:
		case <-ctx.Done():
			log.Printf("worker %d still running after %v: killing it", w.cmd.Process.Pid, workerStopTimeout)
			w.cmd.Process.Kill()
			<-w.exited
		}
	}
}
