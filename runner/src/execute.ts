/**
 * Stage 4 — execute: for every server group, start the server through the launcher, wait for it
 * through the health service, run each client against it, and turn whatever happens (a pass, a
 * failed check, a crash, a hang) into one outcome per cell. Results already collected are kept
 * whatever a peer does.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import PQueue from 'p-queue';
import type { BuildOutcome } from './build.js';
import { DIRECT, splitTransport, type Matrix } from './config.js';
import type { NetworkProxy, Route } from './launcher/network.js';
import { StartError, type ClientRun, type Launcher, type ServerHandle } from './launcher/launcher.js';
import { logTail } from './launcher/output.js';
import { baseOf, caseSpec, type Cell, type ServerGroup } from './plan.js';
import { judge, type Observed } from './checks.js';
import { UNIX_SOCKET } from './scripted/cases.js';
import { judgeScripted } from './scripted/judge.js';
import { scriptedRoot } from './scripted/schema.js';
import { protosDir } from '../../ts-common/src/paths.js';
import { unusedPort } from '../../ts-common/src/net.js';
import { HealthProbe, serverInfo, waitServing, waitTcp, type ProbeTls } from './probe.js';
import { classify, flakyFor, knownFailureFor, type CellResult, type ImplementationInfo, type Outcome, type Timings } from './results.js';

export interface ExecuteOptions {
  matrix: Matrix;
  launcher: Launcher;
  root: string;
  logDir: string;
  /** Server groups run at once. */
  jobs: number;
  builds: Map<string, BuildOutcome>;
  /** Self-test only: passed to every server as --fault=LIST. */
  serverFault?: string;
  /** Self-test only: passed to every client as --client_fault=NAME. */
  clientFault?: string;
  /** How often a failed cell is run again (listed flaky cells: at least 2). */
  retries?: number;
  /** Filled in as servers report their library (owned by the caller, so partial results have it). */
  implementations?: Record<string, ImplementationInfo>;
  onCell?: (result: CellResult) => void;
  /** --no-batch: one client process per case, whatever the client can do. */
  noBatch?: boolean;
  /** Where the time goes, summed over every peer (owned by the caller, like implementations). */
  timings?: Timings;
  /**
   * The gRPC library version installed for an implementation (its `installed_version`, run where
   * its peers run), for the runner's checks: asked once per server whose cells need it.
   */
  installedVersion?: (impl: string) => Promise<string | { error: string } | undefined>;
  /** The instructions of the data suites' cases (--cases_file), written by the caller. */
  casesFile?: string;
  /** The run's network proxy, when a cell is on a network other than direct; else why there is none. */
  proxy?: NetworkProxy;
  proxyError?: string;
}

export interface Execution {
  cells: CellResult[];
  implementations: Record<string, ImplementationInfo>;
  timings: Timings;
}

interface ClientCaseLine {
  case: string;
  status: 'passed' | 'failed';
  ms?: number;
  error?: string;
  /** What the library gave the client, for the runner's checks (runner/src/checks.ts). */
  observed?: Observed;
}

function parseCaseLine(line: string): ClientCaseLine | undefined {
  try {
    const v = JSON.parse(line) as Partial<ClientCaseLine>;
    if (typeof v.case === 'string' && (v.status === 'passed' || v.status === 'failed')) return v as ClientCaseLine;
  } catch {
    // a stray line: the client broke the contract, which shows up as unreported cases
  }
  return undefined;
}

export async function execute(groups: ServerGroup[], options: ExecuteOptions): Promise<Execution> {
  const cells: CellResult[] = [];
  const implementations = options.implementations ?? {};
  for (const [name, impl] of Object.entries(options.matrix.implementations)) {
    implementations[name] = { language: impl.language, library: impl.library, version: null, ...releaseOf(options.matrix, name) };
  }
  // Installed library versions: asked once per implementation, kept for the checks as they come.
  const asked = new Map<string, Promise<string | { error: string } | undefined>>();
  const installed = new Map<string, string | { error: string }>();
  const installedVersion = (impl: string) => {
    if (!asked.has(impl)) asked.set(impl, options.installedVersion?.(impl) ?? Promise.resolve(undefined));
    return asked.get(impl)!;
  };
  const timings = options.timings ?? emptyTimings();
  const record = (cell: Cell, outcome: Outcome) => {
    const result = classify(cell, outcome, options.matrix.knownFailures, options.matrix.releases, options.matrix.flaky);
    cells.push(result);
    options.onCell?.(result);
  };
  // Groups of paced cases (mostly waiting on purpose: deadlines, delays, h2spec's timeouts) take
  // little CPU: they have job slots of their own, PACED_SLOTS times as many, so they overlap the
  // CPU-bound groups instead of holding their slots while they wait. A free slot goes to the
  // waiting work that ranks first (p-queue's priority), not to the first that asked: work asks once
  // it can go on (its container is up), and a long group whose container came late must still
  // start before the short ones.
  const jobs = Math.max(1, options.jobs);
  const slots = { cpu: new PQueue({ concurrency: jobs }), paced: new PQueue({ concurrency: jobs * PACED_SLOTS }) };
  // The longest groups first (longest-processing-time scheduling): a long group started last
  // would run alone while the other job slots sit idle.
  const ordered = [...groups].sort((a, b) => groupCost(options.matrix, b) - groupCost(options.matrix, a));
  const started = performance.now();
  const since = () => Math.round(performance.now() - started);
  timings.groups ??= [];
  const { launcher } = options;
  // Where peers run (containers) is made the busiest first, while the cases of the first run; an
  // implementation the run needs no more is released (its container removed) at once.
  const users = usersOf(groups);
  launcher.startHosts?.([...users.keys()].sort((a, b) => users.get(b)!.cells - users.get(a)!.cells));
  if (launcher.hostPending) {
    const hosts = (timings.hosts ??= []);
    for (const impl of users.keys()) void (launcher.hostPending(impl) ?? Promise.resolve()).then(() => hosts.push({ impl, readyMs: since() }));
  }
  const leave = (impl: string) => {
    if (--users.get(impl)!.uses === 0) void launcher.release?.(impl).catch(() => undefined);
  };
  const timed = async (group: ServerGroup, rank: number) => {
    let startMs: number | undefined;
    const left = new Set(group.pairings);
    const slot = <T>(work: () => Promise<T>): Promise<T> =>
      (group.paced ? slots.paced : slots.cpu).add(
        () => {
          startMs ??= since();
          return work();
        },
        { priority: -rank },
      );
    try {
      await runGroup(group, { ...options, timings, installedVersion, installed }, record, implementations, {
        slot,
        pairingDone: (pairing) => left.delete(pairing) && leave(pairing.client),
      });
    } finally {
      const cellCount = group.pairings.reduce((n, p) => n + p.cells.length, 0);
      timings.groups?.push({ group: group.id, ...(group.paced ? { paced: true } : {}), cells: cellCount, startMs: startMs ?? since(), endMs: since() });
      for (const pairing of left) leave(pairing.client);
      leave(group.server);
    }
  };
  // A group asks for a job slot once its server's container is up; of the groups waiting for a
  // slot, the one first in that order gets it.
  await Promise.all(
    ordered.map(async (group, rank) => {
      await launcher.hostPending?.(group.server);
      return timed(group, rank);
    }),
  );
  return { cells, implementations, timings };
}

/** Per implementation, how many server groups (as their server) and pairings (as their client) use it, and the cells it takes part in. */
function usersOf(groups: ServerGroup[]): Map<string, { uses: number; cells: number }> {
  const users = new Map<string, { uses: number; cells: number }>();
  const use = (impl: string) => users.get(impl) ?? users.set(impl, { uses: 0, cells: 0 }).get(impl)!;
  for (const group of groups) {
    use(group.server).uses++;
    for (const p of group.pairings) {
      use(p.client).uses++;
      use(group.server).cells += p.cells.length;
      if (p.client !== group.server) use(p.client).cells += p.cells.length;
    }
  }
  return users;
}

/** The first of a group's pairings whose client can start now (taken from the list), or undefined. */
function takeReady(pairings: ServerGroup['pairings'], launcher: Launcher): ServerGroup['pairings'][number] | undefined {
  const now = pairings.findIndex((p) => launcher.hostPending?.(p.client) === undefined);
  return now < 0 ? undefined : pairings.splice(now, 1)[0];
}

/**
 * Paced job slots per CPU-bound one. The whole matrix's paced groups wait about as long as its
 * CPU-bound groups work (1362 against 1225 s of group time, measured): with as many slots
 * they ended last, 50 s after the others.
 */
export const PACED_SLOTS = 3;

/** A rough cost of a server group: its cells, and a client process per cell for clients that take one case at a time. */
function groupCost(matrix: Matrix, group: ServerGroup): number {
  return group.pairings.reduce((sum, p) => sum + p.cells.length * (matrix.implementations[p.client]?.batch ? 1 : 25), 0);
}


/** Which declared release an implementation is (for the compatibility view). */
const releaseOf = (matrix: Matrix, impl: string): { release?: string; base?: string } => {
  const r = matrix.releases[impl];
  return r?.version ? { release: r.version, base: r.base } : {};
};

export const emptyTimings = (): Timings => ({ serverStarts: 0, serverStartMs: 0, clientRuns: 0, clientProcesses: 0, clientMs: 0, caseMs: 0 });

type Record_ = (cell: Cell, outcome: Outcome) => void;

/** How long a failed health check waits for the server's exit to show before calling it hung. */
const EXIT_GRACE_MS = 500;
type GroupOptions = ExecuteOptions & {
  timings: Timings;
  installedVersion: (impl: string) => Promise<string | { error: string } | undefined>;
  /** The installed versions known so far, for the runner's checks. */
  installed: Map<string, string | { error: string }>;
};

/** How often a group's server that crashed or hung is started again for the cells still to run. */
export const MAX_SERVER_RESTARTS = 2;

/** One start of a group's server: the process, where clients reach it, its health probe and its log. */
export interface Serving {
  handle: ServerHandle;
  /** Where clients connect: the server, or the proxy of its network in front of it; and the server's Unix socket, if it has one. */
  target: { host: string; port: number; unixSocket?: string };
  health: HealthProbe | undefined;
  logFile: string;
  /** Its network's proxy route, removed with it. */
  route?: Route;
}

/**
 * A running server as the executor sees it: up, or down for a reason (it exited, or it stopped
 * answering its health checks). A server that went down is started again (`revive`, at most
 * MAX_SERVER_RESTARTS times), so that only the case in flight is blamed; past that, every cell
 * still to run against it fails at once.
 */
export class ServerWatch {
  private reason: string | undefined;
  private readonly listeners = new Set<() => void>();
  private checking: Promise<void> | undefined;
  /** The check asked for while one was in flight: it follows that one. */
  private again: Promise<void> | undefined;
  private restarts = 0;
  /** Every start again so far (names its log), the confirmed ones included. */
  private starts = 0;

  constructor(
    private serving: Serving,
    private readonly name: string,
    private readonly healthCheckMs: number,
    /** Starts the server again (the n-th restart). */
    private readonly restart: (n: number) => Promise<Serving>,
  ) {
    this.watchExit();
  }

  get target(): Serving['target'] {
    return this.serving.target;
  }

  /** The log of the server's latest start. */
  get logFile(): string {
    return this.serving.logFile;
  }

  private watchExit(): void {
    const { handle } = this.serving;
    void handle.exited.then((how) => {
      if (this.serving.handle === handle) this.markDown(`server ${this.name} ${how} during the run`);
    });
  }

  /** Why the server is down, with its log tail; undefined while it is up. */
  down(): string | undefined {
    return this.reason === undefined ? undefined : `${this.reason}\n${logTail(this.serving.logFile)}`;
  }

  /** Whether the server is up, or down but may still be started again. */
  usable(): boolean {
    return this.reason === undefined || this.restarts < MAX_SERVER_RESTARTS;
  }

  /**
   * Gives back the restart that confirmed a culprit: when several cases had failed by the time
   * the server went down, each runs again alone, and the one that takes it down again costs a
   * second restart for the same fault. The two count as one, as when the culprit is plain at
   * once (once per such crash, so the restarts stay bounded).
   */
  confirmed(): void {
    if (this.restarts > 0) this.restarts--;
  }

  /**
   * A server that went down is stopped for good and started again, in a fresh log; true when it
   * is up (again). The reason it went down stays with the cells that failed then.
   */
  async revive(): Promise<boolean> {
    if (this.reason === undefined) return true;
    if (!this.usable()) return false;
    this.restarts++;
    await this.settled();
    await this.stopServing();
    try {
      this.serving = await this.restart(++this.starts);
    } catch (err) {
      this.reason = `${this.reason}; started again, it ${(err as Error).message}`;
      this.restarts = MAX_SERVER_RESTARTS;
      return false;
    }
    this.reason = undefined;
    this.watchExit();
    return true;
  }

  private async stopServing(): Promise<void> {
    const { health, route, handle } = this.serving;
    health?.close();
    await route?.remove();
    await handle.stop();
  }

  /** Stops the server (and its proxy route) at the end of its group. */
  async stop(): Promise<void> {
    this.reason ??= 'stopped';
    await this.stopServing();
  }

  /** Calls `fn` once the server goes down; returns the unsubscribe function. */
  onDown(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * After a failed case: is the server still answering? One check at a time; asked while one is
   * in flight, another follows it (at most one waits): the check in flight may have been answered
   * before the failure that asks, by a server that went down since. (Found in Docker, where a
   * server's exit is seen later: a raw request took a grpc-js 1.8 server down while a check
   * asked by an earlier case was in flight; it answered SERVING, and the cases after the crash
   * failed as if the server had answered them.)
   */
  check(): Promise<void> {
    if (this.checking) {
      this.again ??= this.checking.then(() => {
        this.again = undefined;
        return this.check();
      });
      return this.again;
    }
    const { health, handle } = this.serving;
    if (!health || this.reason !== undefined) return Promise.resolve();
    this.checking = health.check(this.healthCheckMs).then(async (answer) => {
      // A server that is exiting refuses the check before its exit is seen: give the exit a
      // moment to arrive, so that it is reported as what it is.
      const exited = answer !== undefined && (await Promise.race([handle.exited.then(() => true), delay(EXIT_GRACE_MS).then(() => false)]));
      this.checking = undefined;
      if (answer !== undefined && !exited && this.serving.handle === handle) {
        this.markDown(`server ${this.name} stopped answering: its health check got no SERVING reply within ${this.healthCheckMs} ms (${answer})`);
      }
    });
    return this.checking;
  }

  /** Waits for the checks in flight and asked, so a hung server is known before the next client starts. */
  async settled(): Promise<void> {
    while (this.checking || this.again) await (this.again ?? this.checking);
  }

  private markDown(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    for (const fn of this.listeners) fn();
  }

}

/** How a group gets its job slots, and tells that a pairing is done (its client may be released). */
interface Turn {
  slot<T>(work: () => Promise<T>): Promise<T>;
  pairingDone(pairing: ServerGroup['pairings'][number]): void;
}

async function runGroup(group: ServerGroup, options: GroupOptions, record: Record_, impls: Record<string, ImplementationInfo>, turn: Turn): Promise<void> {
  const { matrix } = options;
  const allCells = group.pairings.flatMap((p) => p.cells);
  const failAll = (cellsToFail: Cell[], error: string, log?: string) => {
    for (const cell of cellsToFail) record(cell, { passed: false, durationMs: 0, error, ...(log ? { log } : {}) });
  };
  const serverBuild = options.builds.get(group.server);
  if (serverBuild?.status === 'failed') return failAll(allCells, `server ${group.server}: ${serverBuild.error}`);

  const groupDir = join(options.logDir, ...group.id.split('/'));
  const serverLog = join(groupDir, 'server.log');
  const serverRel = relative(options.root, serverLog);
  const impl = matrix.implementations[group.server]!;
  const probeTls = tlsOf(transportArgs(matrix, group.server, group.transport).client_args);
  // A case whose server listens on a Unix socket (`--unix_socket={unix_socket}`) gets a fresh one,
  // in a directory of its own that goes with the server (mounted at the same path in containers).
  const socketDir = group.serverArgs.some((a) => a.includes(UNIX_SOCKET)) ? mkdtempSync(join(options.launcher.scratchDir, 'grpc-interop-')) : undefined;
  const unixSocket = socketDir && join(socketDir, 'server.sock');
  const serverArgs = unixSocket ? group.serverArgs.map((a) => a.replaceAll(UNIX_SOCKET, unixSocket)) : group.serverArgs;
  const mounts = socketDir ? [socketDir] : [];
  const removeSocketDir = () => socketDir && rmSync(socketDir, { recursive: true, force: true });
  const { network } = splitTransport(group.transport);
  /** Starts the server (the n-th restart: in a log of its own), its network's route and its health probe; throws "network …: why" or the start's reason. */
  const serve = async (n: number): Promise<Serving> => {
    const logFile = n === 0 ? serverLog : join(groupDir, `server.restart${n}.log`);
    // A server that died leaves its Unix socket behind; the next one binds the same path.
    if (unixSocket) rmSync(unixSocket, { force: true });
    const started = performance.now();
    let handle: ServerHandle;
    try {
      handle = await startReady({ ...group, serverArgs, mounts }, options, logFile, probeTls);
    } finally {
      options.timings.serverStarts++;
      options.timings.serverStartMs += performance.now() - started;
    }
    let route: Route | undefined;
    if (network !== DIRECT) {
      try {
        if (!options.proxy) throw new Error(options.proxyError ?? 'no network proxy was started');
        route = await options.proxy.route(handle.port, matrix.networks[network]!.toxics);
      } catch (err) {
        await handle.stop();
        throw new NetworkError(`network ${network}: ${(err as Error).message}`);
      }
    }
    return {
      handle,
      target: { host: handle.host, port: route?.port ?? handle.port, ...(unixSocket ? { unixSocket } : {}) },
      health: impl.readiness === 'health' ? new HealthProbe(handle.host, handle.port, probeTls) : undefined,
      logFile,
      ...(route ? { route } : {}),
    };
  };
  // The group works in a job slot; it waits for a client's container outside any slot (and any
  // deadline), its server up meanwhile.
  let watch: ServerWatch | undefined;
  const pairings = [...group.pairings];
  const runReady = async (serving: ServerWatch) => {
    for (let pairing = takeReady(pairings, options.launcher); pairing; pairing = takeReady(pairings, options.launcher)) {
      if (!(await serving.revive())) failAll(pairing.cells, serving.down()!, relative(options.root, serving.logFile));
      else await runPairing(pairing.client, pairing.cells, serving, { ...options, groupDir }, record);
      turn.pairingDone(pairing);
    }
  };
  try {
    watch = await turn.slot(async () => {
      let first: Serving;
      try {
        first = await serve(0);
      } catch (err) {
        if (err instanceof NetworkError) failAll(allCells, err.message);
        else failAll(allCells, `server ${group.server} ${(err as Error).message}`, serverRel);
        return undefined;
      }
      const serving = new ServerWatch(first, group.server, matrix.timeouts.health_check_ms, serve);
      // The installed library version, when a cell checks the server's against it (asked where the server runs).
      const checked = allCells.some((c) => caseSpec(matrix, c).runnerChecks.length > 0);
      const version = checked ? await options.installedVersion(group.server) : undefined;
      if (version !== undefined) options.installed.set(group.server, version);
      impls[group.server] = { ...(await identify(group.server, impl, first.handle, probeTls, options.root)), ...(typeof version === 'string' ? { installed: version } : {}), ...releaseOf(matrix, group.server) };
      await runReady(serving);
      return serving;
    });
    while (watch && pairings.length > 0) {
      await Promise.race(pairings.map((p) => options.launcher.hostPending?.(p.client) ?? Promise.resolve()));
      const serving = watch;
      await turn.slot(() => runReady(serving));
    }
  } finally {
    await watch?.stop();
    removeSocketDir();
  }
}

/** A group's network proxy could not route to its server. */
class NetworkError extends Error {}

const PORT_TAKEN = /address already in use|EADDRINUSE/i;

/**
 * Starts a group's server and waits until it is ready; throws with the reason and log tail.
 * A server that takes its port from the runner is started again on another port when the one
 * picked was taken meanwhile (another run on the same machine).
 */
export async function startReady(
  group: Pick<ServerGroup, 'server' | 'transport' | 'serverArgs'> & { mounts?: string[] },
  options: Pick<ExecuteOptions, 'matrix' | 'launcher' | 'serverFault'>,
  logFile: string,
  probeTls: ProbeTls | undefined,
): Promise<ServerHandle> {
  const { matrix, launcher } = options;
  const impl = matrix.implementations[group.server]!;
  const { timeouts } = matrix;
  const extra = [...transportArgs(matrix, group.server, group.transport).server_args, ...group.serverArgs, ...(options.serverFault ? [`--fault=${options.serverFault}`] : [])];
  for (let attempt = 1; ; attempt++) {
    const port = impl.listening === 'port' ? await unusedPort() : undefined;
    let server: ServerHandle;
    try {
      server = await launcher.startServer({
        impl: group.server,
        command: impl.server!,
        args: [`--port=${port ?? 0}`, ...extra],
        logFile,
        startTimeoutMs: timeouts.server_start_ms,
        ...(group.mounts?.length ? { mounts: group.mounts } : {}),
        ...(port !== undefined ? { port } : {}),
      });
    } catch (err) {
      throw new Error(`failed to start: ${err instanceof StartError ? err.message : String(err)}`);
    }
    try {
      if (impl.readiness === 'tcp') await waitTcp(server.host, server.port, timeouts.ready_ms, server.running);
      else await waitServing(server.host, server.port, timeouts.ready_ms, probeTls, server.running);
      return server;
    } catch (err) {
      await server.stop();
      const tail = logTail(logFile);
      if (port !== undefined && attempt < 3 && PORT_TAKEN.test(tail)) continue;
      throw new Error(`is not ready: ${(err as Error).message}\n${tail}`);
    }
  }
}

async function runPairing(client: string, cells: Cell[], server: ServerWatch, options: GroupOptions & { groupDir: string }, record: Record_): Promise<void> {
  const clientBuild = options.builds.get(client);
  if (clientBuild?.status === 'failed') {
    for (const cell of cells) record(cell, { passed: false, durationMs: 0, error: `client ${client}: ${clientBuild.error}` });
    return;
  }
  // A failed cell is run again up to its retries: --retries, and at least 2 for a listed flaky
  // cell; never a known failure, which is expected to fail (running it again tells nothing).
  const retriesOf = (cell: Cell) => {
    if (knownFailureFor(cell.id, options.matrix.knownFailures, options.matrix.releases)) return 0;
    const flaky = flakyFor(cell.id, options.matrix.flaky, options.matrix.releases);
    return flaky ? Math.max(options.retries ?? 0, flaky.retries ?? 2) : (options.retries ?? 0);
  };
  const outcomes = await runAttempt(client, cells, server, options, 1);
  const retryable = (c: Cell, attempt: number) => !outcomes.get(c.case)!.passed && retriesOf(c) >= attempt && server.usable();
  let again = cells.filter((c) => retryable(c, 1));
  for (let attempt = 2; again.length > 0; attempt++) {
    const retried = await runAttempt(client, again, server, options, attempt);
    for (const cell of again) {
      const first = outcomes.get(cell.case)!;
      const now = retried.get(cell.case)!;
      outcomes.set(cell.case, { ...now, attempts: attempt, ...(now.passed ? { firstError: first.firstError ?? first.error ?? '' } : {}) });
    }
    again = again.filter((c) => retryable(c, attempt));
  }
  for (const cell of cells) record(cell, outcomes.get(cell.case)!);
}

/**
 * One attempt at some cells of a pairing: one client process for them all (a batch client), or
 * one per case. A batch client that dies or hangs after reporting some cases is blamed for the
 * case in flight only: the cases after it run in a fresh process.
 */
async function runAttempt(client: string, cells: Cell[], server: ServerWatch, options: GroupOptions & { groupDir: string }, attempt: number): Promise<Map<string, Outcome>> {
  const impl = options.matrix.implementations[client]!;
  const suffix = attempt > 1 ? `.attempt${attempt}` : '';
  const oneByOne = !impl.batch || options.noBatch === true;
  const outcomes = new Map<string, Outcome>();
  const queue: Cell[][] = oneByOne ? cells.map((c) => [c]) : [cells];
  /** Cases run again alone after the server went down in their batch, until one takes it down again. */
  let suspects: { cases: string[]; reason: string; log: string } | undefined;
  for (let part = 1; queue.length > 0; part++) {
    const batch = queue.shift()!;
    const logFile = oneByOne
      ? join(options.groupDir, `client-${client}`, `${batch[0]!.case}${suffix}.log`)
      : join(options.groupDir, `client-${client}${suffix}${part > 1 ? `.part${part}` : ''}.log`);
    const log = relative(options.root, logFile);
    if (!(await server.revive())) {
      for (const cell of batch) outcomes.set(cell.case, { passed: false, durationMs: 0, log: relative(options.root, server.logFile), error: server.down()! });
      continue;
    }
    const run = await runClient(client, batch, server, options, logFile);
    // A case that failed while its server went down: the server's reason and log tail say why.
    const serverDown = server.down();
    const share = run.ms / batch.length;
    if (serverDown && batch.length === 1 && suspects?.cases.includes(batch[0]!.case)) {
      suspects = undefined; // it took the server down again, alone: the culprit
      server.confirmed();
    }
    if (serverDown && !oneByOne && server.usable()) {
      // The server went down during this batch and will be started again: the first case that
      // did not pass is blamed; the ones after it that did not pass met a server that was gone,
      // and run again against the new one.
      const passed = (c: Cell) => run.reported.get(c.case)?.passed === true;
      const notPassed = batch.filter((c) => !passed(c));
      for (const cell of batch.filter(passed)) outcomes.set(cell.case, { ...run.reported.get(cell.case)!, log });
      if (notPassed.filter((c) => run.reported.has(c.case)).length > 1) {
        // Several cases had failed by the time the server was seen going down (known failures
        // among them, say): which one took it down is not known. Each runs again alone against
        // the server started again, so the one that takes it down again is blamed, and the
        // others get their own verdicts.
        suspects = { cases: notPassed.map((c) => c.case), reason: serverDown, log };
        queue.unshift(...notPassed.map((c) => [c]));
        continue;
      }
      const blamed = batch.findIndex((c) => !passed(c));
      if (blamed >= 0) {
        const o = run.reported.get(batch[blamed]!.case);
        outcomes.set(batch[blamed]!.case, { ...(o ?? { passed: false, durationMs: share }), log, error: [o?.error ?? run.why, serverDown].filter(Boolean).join('\n') });
        const again = batch.slice(blamed + 1).filter((c) => !passed(c));
        if (again.length > 0) queue.unshift(again);
        continue;
      }
    }
    for (const [name, o] of run.reported) outcomes.set(name, { ...o, log, ...(!o.passed && serverDown ? { error: `${o.error ?? ''}\n${serverDown}` } : {}) });
    const pending = batch.filter((c) => !run.reported.has(c.case));
    if (pending.length === 0) continue;
    const why = serverDown ?? (run.why === undefined ? undefined : `${run.why}\n${logTail(logFile)}`);
    if (why === undefined) {
      for (const cell of pending) outcomes.set(cell.case, { passed: true, durationMs: share, log });
      continue;
    }
    // Only the case in flight is blamed: the cases after it run in a fresh process, against the
    // server started again if it went down (unless the client cannot be started at all, or the
    // server has been started again too often).
    const resume = !oneByOne && pending.length > 1 && !run.cannotStart && server.usable();
    for (const cell of resume ? pending.slice(0, 1) : pending) outcomes.set(cell.case, { passed: false, durationMs: share, log, error: why });
    if (resume) queue.unshift(pending.slice(1));
  }
  if (suspects) {
    // None of them took the server down again alone: a crash that comes and goes is not lost, it
    // fails the first of them.
    const first = suspects.cases[0]!;
    const o = outcomes.get(first);
    const why = `the server went down while this case's batch ran, and not when each case that had not passed ran again alone (${suspects.cases.join(', ')}): blamed on the first of them\n${suspects.reason}`;
    outcomes.set(first, { ...(o ?? { durationMs: 0 }), passed: false, log: o?.log ?? suspects.log, error: [o?.error, why].filter(Boolean).join('\n') });
  }
  return outcomes;
}

interface ClientResult {
  reported: Map<string, Outcome>;
  /** The client process could not be started at all. */
  cannotStart: boolean;
  /** Why the unreported cases have no result; undefined: they passed (exit-code-only client, exit 0). */
  why: string | undefined;
  ms: number;
}

/**
 * Runs one client process on some cases. Deadlines are per case: the first result is due
 * client_start_ms + case_ms after the start, each next one case_ms after the previous; a client
 * that misses one is killed. A failed case makes the runner check that the server still answers.
 */
async function runClient(client: string, batch: Cell[], server: ServerWatch, options: GroupOptions, logFile: string): Promise<ClientResult> {
  const { matrix, launcher, timings } = options;
  const { timeouts } = matrix;
  const impl = matrix.implementations[client]!;
  const transport = transportArgs(matrix, client, batch[0]!.transport);
  const reported = new Map<string, Outcome>();
  const controller = new AbortController();
  let killedFor: string | undefined;
  const kill = (why: string) => {
    killedFor ??= why;
    controller.abort();
  };
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const inFlight = batch.find((c) => !reported.has(c.case))?.case;
      kill(`no result for case ${inFlight} within ${ms} ms (timeouts in matrix.yaml: client_start_ms ${timeouts.client_start_ms}, case_ms ${timeouts.case_ms})`);
      void server.check();
    }, ms);
  };
  /** The wait for the next case's result: timeouts.case_ms, or the case's own when longer (a deliberately long case). */
  const nextCaseMs = () => {
    const next = batch.find((c) => !reported.has(c.case));
    return Math.max(timeouts.case_ms, (next && caseSpec(matrix, next).scripted?.caseMs) ?? 0);
  };
  // The first result is due from the client's start: a run may wait for a free executor first.
  const onStart = () => arm(timeouts.client_start_ms + launcher.startAllowanceMs + nextCaseMs());
  const unsubscribe = server.onDown(() => kill('its server went down'));
  const scripted = batch.some((c) => caseSpec(matrix, c).scripted !== undefined);
  const run = await launcher.runClient({
    impl: client,
    command: impl.client!,
    args: [
      `--server_host=${server.target.host}`,
      `--server_port=${server.target.port}`,
      ...(server.target.unixSocket ? [`--server_unix_socket=${server.target.unixSocket}`] : []),
      ...transport.client_args,
      ...(options.clientFault ? [`--client_fault=${options.clientFault}`] : []),
      ...(scripted && options.casesFile ? [`--cases_file=${options.casesFile}`] : []),
      `--test_case=${batch.map((c) => c.case).join(',')}`,
    ],
    ...(scripted && options.casesFile ? { files: [options.casesFile] } : {}),
    ...(server.target.unixSocket ? { mounts: [dirname(server.target.unixSocket)] } : {}),
    ...(impl.executor && options.noBatch !== true ? { executor: true } : {}),
    logFile,
    signal: controller.signal,
    onStart,
    onLine: (line) => {
      const got = parseCaseLine(line);
      const cell = got && batch.find((c) => c.case === got.case);
      if (!got || !cell || reported.has(got.case)) return;
      // The client passed what it can judge; the runner then judges what only it can (all of it, for a data suite's case).
      const spec = caseSpec(matrix, cell);
      const problem =
        got.status !== 'passed'
          ? undefined
          : spec.scripted
            ? judgeScripted(scriptedRoot(protosDir()), spec.scripted, got.observed, baseOf(matrix, cell.client), baseOf(matrix, cell.server), matrix.networks[splitTransport(cell.transport).network]?.expect)
            : judge(spec.runnerChecks, got.observed, { server: cell.server, installed: (i) => options.installed.get(i) });
      const error = problem ?? got.error;
      const passed = got.status === 'passed' && problem === undefined;
      reported.set(got.case, { passed, durationMs: got.ms ?? 0, ...(error ? { error } : {}) });
      timings.caseMs += got.ms ?? 0;
      arm(nextCaseMs());
      // A case the client failed, or a raw request the runner judged failed (the raw client's
      // requests can take a server down): does the server still answer? (A library client's
      // data case judged failed does not ask: a lifecycle case may have the server restarting on
      // purpose, and a check during its downtime would call it gone.)
      if (got.status === 'failed' || (!passed && impl.raw)) void server.check();
    },
  });
  clearTimeout(timer);
  unsubscribe();
  await server.settled();
  timings.clientRuns++;
  if (run.newProcess) timings.clientProcesses = (timings.clientProcesses ?? 0) + 1;
  timings.clientMs += run.ms;
  return { reported, ms: run.ms, cannotStart: run.startError !== undefined, why: unreportedReason(run, killedFor, !impl.batch) };
}

/** The flags of a transport for one implementation: its own override, or the transport's. */
export function transportArgs(matrix: Matrix, impl: string, segment: string): { server_args: string[]; client_args: string[] } {
  const { transport } = splitTransport(segment);
  return matrix.implementations[impl]?.transport_args[transport] ?? matrix.transports[transport]!;
}

/** How the runner's own probes must dial a transport: read off the client flags of our peers. */
export function tlsOf(clientArgs: string[]): ProbeTls | undefined {
  const flag = (name: string) => clientArgs.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (flag('use_tls') !== 'true') return undefined;
  const cert = flag('client_cert_file');
  const key = flag('client_key_file');
  return {
    ca: flag('ca_file') ?? 'certs/ca.pem',
    ...(cert && key ? { cert, key } : {}),
    ...(flag('server_host_override') ? { serverName: flag('server_host_override')! } : {}),
  };
}

/** The library behind a running server: interop.ServerInfo, else the configured version file. */
async function identify(name: string, impl: Matrix['implementations'][string], server: ServerHandle, tls: ProbeTls | undefined, root: string): Promise<ImplementationInfo> {
  try {
    const info = await serverInfo(server.host, server.port, 5000, tls);
    return { language: info.language, library: info.implementation, version: info.version };
  } catch (err) {
    if (impl.version_file) {
      try {
        return { language: impl.language, library: impl.library, version: readFileSync(join(root, impl.version_file), 'utf8').trim() };
      } catch {
        // fall through to the warning
      }
    }
    process.stderr.write(`warning: ${name} did not answer interop.ServerInfo: ${(err as Error).message}\n`);
    return { language: impl.language, library: impl.library, version: null };
  }
}

/**
 * Why a case has no JSON line. A one-case client that follows only the upstream contract reports
 * through its exit code alone: 0 is a pass (undefined here).
 */
function unreportedReason(run: ClientRun, killedFor: string | undefined, exitCodeOnly: boolean): string | undefined {
  if (run.startError !== undefined) return `cannot start client: ${run.startError}`;
  if (run.aborted && killedFor) return `client killed after ${run.ms} ms: ${killedFor}`;
  if (exitCodeOnly && run.exitCode === 0) return undefined;
  if (run.signal) return `client killed by ${run.signal} before reporting this case`;
  return `client exited with code ${run.exitCode} without reporting this case`;
}
