/**
 * Every process group the runner starts is registered here, so that nothing outlives the run:
 * normal exit, an error, Ctrl-C (SIGINT) or SIGTERM. Each child runs in its own process group
 * (detached), so killing the group also kills what the child started (workers, grandchildren).
 */
const groups = new Set<number>();

export function track(pid: number): void {
  groups.add(pid);
}

export function untrack(pid: number): void {
  groups.delete(pid);
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Synchronous, so it also works from an 'exit' handler. */
export function killAll(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of groups) killGroup(pid, signal);
  groups.clear();
}

export const liveGroups = (): number[] => [...groups];

let installed = false;
let stopping = false;

/** True once SIGINT/SIGTERM arrived: the signal handler owns the exit from then on. */
export const isStopping = (): boolean => stopping;

/**
 * On SIGINT/SIGTERM: run `onSignal` (write partial results), kill every child, exit 130/143.
 * The handler stays installed: a second signal (a second Ctrl-C, or one that a child such as
 * docker-compose passes on to the process group) must not kill the runner mid-cleanup. The
 * cleanup is bounded: after 30 s the runner exits anyway.
 */
export function installCleanup(onSignal: (signal: NodeJS.Signals) => Promise<void> | void): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => killAll());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\n${signal}: writing the results so far and stopping every peer…\n`);
      killAll('SIGTERM');
      const code = signal === 'SIGINT' ? 130 : 143;
      // Removing containers can take several seconds; past this the runner exits anyway.
      const force = setTimeout(() => process.exit(code), 30_000);
      force.unref();
      Promise.resolve(onSignal(signal)).finally(() => {
        killAll();
        process.exit(code);
      });
    });
  }
}
