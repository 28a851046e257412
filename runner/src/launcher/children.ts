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

/** On SIGINT/SIGTERM: run `onSignal` (write partial results), kill every child, exit 130/143. */
export function installCleanup(onSignal: (signal: NodeJS.Signals) => Promise<void> | void): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => killAll());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll('SIGTERM');
      const code = signal === 'SIGINT' ? 130 : 143;
      const force = setTimeout(() => process.exit(code), 5000);
      force.unref();
      Promise.resolve(onSignal(signal)).finally(() => {
        killAll();
        process.exit(code);
      });
    });
  }
}
