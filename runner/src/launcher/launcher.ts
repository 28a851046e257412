/**
 * A launcher knows how to start peers, not what a case means. The executor talks to this
 * interface only; the process launcher runs local processes (a Docker launcher is another
 * implementation of the same interface).
 */
export interface ServerSpec {
  impl: string;
  command: string[];
  args: string[];
  /** Everything the server prints goes here. */
  logFile: string;
  /** How long to wait for the `{"event":"listening"}` line. */
  startTimeoutMs: number;
  /** Set when the runner chose the port (the server prints no listening line): no waiting. */
  port?: number;
  /** Directories (absolute) the server writes in (its Unix socket): a container gets them mounted at the same path. */
  mounts?: string[];
}

export interface ServerHandle {
  host: string;
  port: number;
  pid?: number;
  /** Resolves when the server process exits, for whatever reason. */
  exited: Promise<string>;
  running(): boolean;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it is gone. */
  stop(): Promise<void>;
}

export interface ClientSpec {
  impl: string;
  command: string[];
  args: string[];
  logFile: string;
  /** When this aborts, the client (and everything it started) is killed. */
  signal: AbortSignal;
  /** Called with every complete stdout line as it arrives. */
  onLine?: (line: string) => void;
  /** Files (absolute paths) the client reads, named in its arguments: a container gets them mounted at the same path. */
  files?: string[];
  /** Directories (absolute) the client uses (a server's Unix socket): a container gets them mounted at the same path, writable. */
  mounts?: string[];
  /**
   * The client has executor mode (docs/peer-contract.md): a launcher may hand `args` to a
   * long-lived `command --executor` instead of starting `command args`.
   */
  executor?: boolean;
  /**
   * Called when the client starts (a process, or an executor taking the run): a run may first
   * wait for an executor of its command to be free, and that wait is not the client's time.
   * Every launcher calls it before the client can do anything.
   */
  onStart?: () => void;
}

export interface ClientRun {
  exitCode: number | undefined;
  signal: string | undefined;
  /** It was killed because `signal` aborted. */
  aborted: boolean;
  stdout: string;
  ms: number;
  /** The client could not be started at all (no such command, not executable, …): why. */
  startError?: string;
  /** A process was started for this run (false: a running executor took it). */
  newProcess: boolean;
}

/** A client run stopped before its client started (its signal aborted, or the launcher closing). */
export const stoppedBeforeStart = (signal: AbortSignal): ClientRun => ({ exitCode: undefined, signal: 'SIGTERM', aborted: signal.aborted, stdout: '', ms: 0, newProcess: false });

/** A client run whose client could not be started at all: why. */
export const cannotStart = (why: string, ms = 0): ClientRun => ({ exitCode: undefined, signal: undefined, aborted: false, stdout: '', ms, startError: why, newProcess: false });

export interface Launcher {
  readonly name: string;
  /** Added to a client's first-case deadline: what starting a peer costs beyond the process. */
  readonly startAllowanceMs: number;
  /** Where the runner makes folders a peer uses (a server's Unix socket): the peers must see them at the same path. */
  readonly scratchDir: string;
  startServer(spec: ServerSpec): Promise<ServerHandle>;
  runClient(spec: ClientSpec): Promise<ClientRun>;
  /** Runs a short command where `impl`'s peers run (e.g. `installed_version`): ok and its output. */
  runCommand(impl: string, command: string[]): Promise<{ ok: boolean; output: string }>;
  /**
   * Where the peers of `impl` run must first be made (a container): `startHosts` begins making
   * them, in this order (the first needed first), in the background. A launcher that runs peers
   * here has nothing to make.
   */
  startHosts?(impls: string[]): void;
  /**
   * Settles once peers of `impl` can be started (never rejects: a host that could not be made
   * says why when its first peer starts), or undefined when they can be now. The runner waits
   * for it outside every deadline, so slow storage never turns into a failed case.
   */
  hostPending?(impl: string): Promise<void> | undefined;
  /** No peer of `impl` will be started any more in this run: what it keeps for them can go (executors, its container). */
  release?(impl: string): Promise<void>;
  /** Stops everything this launcher started that is still running. */
  close(): Promise<void>;
}

/** A server that did not come up: the message says why, with its log tail. */
export class StartError extends Error {}
