/**
 * Where peers run: this machine, or a container that lives for the run (launcher/docker.ts).
 * A launcher starts every peer through its host, so the process launcher's logic (logs, the
 * listening line, executors, deadlines) is the same wherever the peers are.
 */
import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import { killGroup, stopGroup, track, untrack } from './children.js';
import { StartError } from './launcher.js';

/** How a peer process ended: its exit code, or the signal that killed it. */
export interface Ending {
  exitCode?: number;
  signal?: string;
}

/** A peer process a host started. */
export interface Peer {
  /** Its output, read to the end. */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Its input, when it was started to read one. */
  readonly stdin?: Writable;
  /** Resolves once it has ended and its output has been read to the end. */
  readonly ended: Promise<Ending>;
  /** Where it runs, for the logs: `pid 1234` here, `pid 56 in <container>` in a container. */
  readonly where: string;
  /** The local process, when the peer is one (its process group is stopped on the way out). */
  readonly pid?: number;
}

export interface Host {
  /**
   * Starts `command` of `impl` (`tag` names it, unique in the run; `stdin`: it reads its input
   * from `Peer.stdin`). A StartError says why it could not be started.
   */
  start(impl: string, command: string[], tag: string, options: { cwd: string; stdin: boolean }): Promise<Peer>;
  /** Stops a peer it started: SIGTERM (and SIGCONT), then SIGKILL after a grace period; resolves once it is gone. */
  stop(impl: string, peer: Peer): Promise<void>;
  /** Resolves when `impl`'s peers can run there; a StartError says why they cannot. */
  ready(impl: string): Promise<void>;
}

/** Why a command could not be started, from the spawn error's code. */
export function startFailure(command: string, code: string | undefined, message: string): string {
  if (code === 'ENOENT') return `${command}: no such file or command (is it built, or installed and on PATH?)`;
  if (code === 'EACCES') return `${command}: permission denied (is it executable?)`;
  return `${command}: ${message}`;
}

/**
 * Starts a local process in a process group of its own, registered for cleanup (children.ts):
 * when it ends, whatever it left in its group is killed.
 */
export async function startLocal(command: string[], options: { cwd: string; stdin: boolean }): Promise<Peer & { pid: number }> {
  const child = execa(command[0]!, command.slice(1), { cwd: options.cwd, detached: true, stdin: options.stdin ? 'pipe' : 'ignore', buffer: false, reject: false, cleanup: false });
  const pid = child.pid;
  if (pid === undefined) {
    const result = await child;
    throw new StartError(startFailure(command[0]!, result.code, result.shortMessage ?? String(result.message)));
  }
  track(pid);
  const ended = child.then((result): Ending => {
    untrack(pid);
    killGroup(pid, 'SIGKILL'); // whatever it left behind
    return result.signal ? { signal: result.signal } : { exitCode: result.exitCode };
  });
  return { pid, stdout: child.stdout!, stderr: child.stderr!, ...(child.stdin ? { stdin: child.stdin } : {}), ended, where: `pid ${pid}` };
}

/** This machine: a command runs as itself, in a process group of its own. */
export const LOCAL: Host = {
  start: (_impl, command, _tag, options) => startLocal(command, options),
  stop: (_impl, peer) => stopGroup(peer.pid!, peer.ended),
  ready: async () => undefined,
};

let tags = 0;
/** A name for one started peer, unique in this runner process. */
export const nextTag = (): string => `p${process.pid}-${++tags}`;
