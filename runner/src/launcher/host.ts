/**
 * Where peers run: this machine, or a container that lives for the run (launcher/docker.ts).
 * A launcher starts every peer through its host, so the process launcher's logic (logs, the
 * listening line, executors, deadlines) is the same wherever the peers are.
 */
import { stopGroup } from './children.js';

export interface Host {
  /** The command line that runs `command` of `impl` (`tag` names it for `stop`; `stdin`: it reads stdin). */
  argv(impl: string, command: string[], tag: string, stdin: boolean): string[];
  /** Stops what `argv` started (local process `pid`, ended when `exited` resolves): SIGTERM, then SIGKILL after a grace period. */
  stop(impl: string, tag: string, pid: number, exited: Promise<unknown>): Promise<void>;
  /** Resolves when `impl`'s peers can run there; a StartError says why they cannot. */
  ready(impl: string): Promise<void>;
}

/** This machine: a command runs as itself, in a process group of its own. */
export const LOCAL: Host = {
  argv: (_impl, command) => command,
  stop: (_impl, _tag, pid, exited) => stopGroup(pid, exited),
  ready: async () => undefined,
};

let tags = 0;
/** A name for one started peer, unique in this runner process. */
export const nextTag = (): string => `p${process.pid}-${++tags}`;
