/**
 * Every process group the runner starts is registered here, so that nothing outlives the run:
 * normal exit, an error, Ctrl-C (SIGINT) or SIGTERM. Each child runs in its own process group
 * (detached), so killing the group also kills what the child started (workers, grandchildren).
 * For the deaths no handler sees (SIGKILL of the runner or of its process group), the reaper
 * (reaper.ts) holds a pipe from this process and cleans up when it breaks.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

/** The environment variable every process of a run carries: the run's id. */
export const RUN_TAG = 'GRPC_INTEROP_RUN';

const groups = new Set<number>();
let reaper: ResultPromise | undefined;

/**
 * Starts the reaper once per runner process, in a session of its own (so a signal to the
 * runner's process group does not reach it), and tags this process's environment with the run
 * id, so that every process started from now on carries it. Call it before starting anything.
 */
export function startReaper(): void {
  if (reaper) return;
  const script = reaperScript();
  const runId = randomUUID();
  process.env[RUN_TAG] = runId;
  reaper = execa(process.execPath, [script, runId], {
    detached: true,
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'ignore',
    reject: false,
    cleanup: false,
  });
  // Neither the reaper nor its pipe keeps the runner alive; the pipe closes when the runner exits.
  reaper.unref();
  (reaper.stdin as Socket | null)?.unref();
  reaper.stdin?.on('error', () => undefined); // a reaper that died early: nothing to tell it
}

/**
 * The reaper's script: beside this module in the build, or — when the runner is loaded from its
 * TypeScript sources, as jest does for the self-test and the end-to-end tests — in the build of
 * the same checkout. Without one the runner refuses to start anything: a run without its reaper
 * leaves its peers behind when it is killed.
 */
function reaperScript(): string {
  const candidates = [new URL('../reaper.js', import.meta.url), new URL('../../../build/ts/runner/src/reaper.js', import.meta.url)].map((u) => fileURLToPath(u));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`the reaper's script is missing (looked for ${candidates.join(' and ')}): run \`npm run build\` first`);
  return found;
}

/**
 * Closes the reaper's pipe and waits (up to 10 s) for its last sweep: on a normal end it finds
 * nothing, or whatever escaped the runner's own cleanup.
 */
export async function stopReaper(): Promise<void> {
  if (!reaper) return;
  const done = reaper;
  reaper = undefined;
  done.ref(); // wait for it: an unreferenced child would let the event loop (and the exit code) go
  done.stdin?.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
  clearTimeout(timer);
}

function tellReaper(line: string): void {
  reaper?.stdin?.write(`${line}\n`);
}

export function track(pid: number): void {
  groups.add(pid);
  tellReaper(`+${pid}`);
}

export function untrack(pid: number): void {
  groups.delete(pid);
  tellReaper(`-${pid}`);
}

/** Containers of this Compose project are removed by the reaper if the runner dies first. */
export function trackComposeProject(project: string): void {
  tellReaper(`docker ${project}`);
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const STOP_GRACE_MS = 3000;

/**
 * Stops a process group: SIGTERM, SIGCONT (a stopped, hung process acts on SIGTERM only once
 * resumed), SIGKILL after a grace period; resolves once `exited` does.
 */
export async function stopGroup(pid: number, exited: Promise<unknown>): Promise<void> {
  killGroup(pid, 'SIGTERM');
  killGroup(pid, 'SIGCONT');
  const force = setTimeout(() => killGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(force);
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
      Promise.resolve(onSignal(signal)).finally(async () => {
        killAll();
        await stopReaper();
        process.exit(code);
      });
    });
  }
}
