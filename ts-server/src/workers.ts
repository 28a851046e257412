import cluster, { type Worker } from 'node:cluster';

/**
 * Several processes serving one port. Node has no SO_REUSEPORT before v22.12, so this uses the
 * platform's equivalent, `cluster`: the primary owns the listening socket and hands each new
 * connection to a worker; each worker runs its own grpc-js server (and answers ServerInfo with
 * its own pid). Workers exit when the primary goes away (cluster's IPC channel closes).
 */
export async function runPrimary(workers: number, onListening: (port: number) => void): Promise<void> {
  const ports: number[] = [];
  const forked: Worker[] = [];
  let stopping = false;
  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork();
    forked.push(worker);
    worker.on('message', (msg: { event?: string; port?: number }) => {
      if (msg.event !== 'listening' || msg.port === undefined) return;
      ports.push(msg.port);
      if (ports.length === workers) onListening(msg.port);
    });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`worker ${worker.process.pid} exited (code ${code}, signal ${signal}); stopping\n`);
      stop(1);
    });
  }
  const stop = (code: number) => {
    stopping = true;
    const alive = forked.filter((w) => !w.isDead());
    if (alive.length === 0) process.exit(code);
    let left = alive.length;
    for (const w of alive) {
      w.once('exit', () => {
        if (--left === 0) process.exit(code);
      });
      w.process.kill('SIGTERM');
    }
  };
  process.once('SIGTERM', () => stop(0));
  process.once('SIGINT', () => stop(0));
}

/** Called in a worker once its server is bound. */
export function reportWorkerListening(port: number): void {
  process.send?.({ event: 'listening', port });
}

export const isWorker = (): boolean => cluster.isWorker;
