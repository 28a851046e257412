/**
 * Stage 4 — execute: for every server group, start the server through the launcher, wait for it
 * through the health service, run each client against it, and turn whatever happens (a pass, a
 * failed check, a crash, a hang) into one outcome per cell. Results already collected are kept
 * whatever a peer does.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import pLimit from 'p-limit';
import type { BuildOutcome } from './build.js';
import type { Matrix } from './config.js';
import { StartError, type Launcher, type ServerHandle } from './launcher/launcher.js';
import { logTail } from './launcher/output.js';
import type { Cell, ServerGroup } from './plan.js';
import { unusedPort } from '../../ts-common/src/net.js';
import { serverInfo, waitServing, waitTcp, type ProbeTls } from './probe.js';
import { classify, flakyFor, type CellResult, type ImplementationInfo, type Outcome } from './results.js';

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
}

export interface Execution {
  cells: CellResult[];
  implementations: Record<string, ImplementationInfo>;
}

const SERVER_START_TIMEOUT_MS = 30_000;
const HEALTH_TIMEOUT_MS = 15_000;
/** A client gets this long to start, plus CASE_BUDGET_MS per case (each RPC has a 5 s deadline). */
const CLIENT_BASE_MS = 10_000;
const CASE_BUDGET_MS = 10_000;

interface ClientCaseLine {
  case: string;
  status: 'passed' | 'failed';
  ms?: number;
  error?: string;
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
    implementations[name] = { language: impl.language, library: impl.library, version: null };
  }
  const record = (cell: Cell, outcome: Outcome) => {
    const result = classify(cell, outcome, options.matrix.knownFailures);
    cells.push(result);
    options.onCell?.(result);
  };
  const limit = pLimit(Math.max(1, options.jobs));
  await Promise.all(groups.map((group) => limit(() => runGroup(group, options, record, implementations))));
  return { cells, implementations };
}

type Record_ = (cell: Cell, outcome: Outcome) => void;

async function runGroup(group: ServerGroup, options: ExecuteOptions, record: Record_, impls: Record<string, ImplementationInfo>): Promise<void> {
  const { matrix, launcher, root } = options;
  const allCells = group.pairings.flatMap((p) => p.cells);
  const failAll = (cellsToFail: Cell[], error: string, log?: string) => {
    for (const cell of cellsToFail) record(cell, { passed: false, durationMs: 0, error, ...(log ? { log } : {}) });
  };
  const serverBuild = options.builds.get(group.server);
  if (serverBuild?.status === 'failed') return failAll(allCells, `server ${group.server}: ${serverBuild.error}`);

  const groupDir = join(options.logDir, ...group.id.split('/'));
  const serverLog = join(groupDir, 'server.log');
  const serverRel = relative(root, serverLog);
  const impl = matrix.implementations[group.server]!;
  const transport = transportArgs(matrix, group.server, group.transport);
  const port = impl.listening === 'port' ? await unusedPort() : undefined;
  const args = [`--port=${port ?? 0}`, ...transport.server_args, ...group.serverArgs, ...(options.serverFault ? [`--fault=${options.serverFault}`] : [])];

  let server: ServerHandle;
  try {
    server = await launcher.startServer({
      impl: group.server,
      command: impl.server!,
      args,
      logFile: serverLog,
      startTimeoutMs: SERVER_START_TIMEOUT_MS,
      ...(port !== undefined ? { port } : {}),
    });
  } catch (err) {
    const why = err instanceof StartError ? err.message : String(err);
    return failAll(allCells, `server ${group.server} failed to start: ${why}`, serverRel);
  }
  const probeTls = tlsOf(transport.client_args);
  try {
    try {
      if (impl.readiness === 'tcp') await waitTcp(server.host, server.port, HEALTH_TIMEOUT_MS, server.running);
      else await waitServing(server.host, server.port, HEALTH_TIMEOUT_MS, probeTls, server.running);
    } catch (err) {
      return failAll(allCells, `server ${group.server} is not ready: ${(err as Error).message}\n${logTail(serverLog)}`, serverRel);
    }
    impls[group.server] = await identify(group.server, impl, server, probeTls, options.root);
    for (const pairing of group.pairings) {
      if (!server.running()) {
        failAll(pairing.cells, `server ${group.server} is gone: ${await server.exited}\n${logTail(serverLog)}`, serverRel);
        continue;
      }
      await runPairing(pairing.client, pairing.cells, server, { ...options, groupDir }, record);
    }
  } finally {
    await server.stop();
  }
}

async function runPairing(
  client: string,
  cells: Cell[],
  server: ServerHandle,
  options: ExecuteOptions & { groupDir: string },
  record: Record_,
): Promise<void> {
  const clientBuild = options.builds.get(client);
  if (clientBuild?.status === 'failed') {
    for (const cell of cells) record(cell, { passed: false, durationMs: 0, error: `client ${client}: ${clientBuild.error}` });
    return;
  }
  // A failed cell is run again up to its retries: --retries, and at least 2 for a listed flaky cell.
  const retriesOf = (cell: Cell) => (flakyFor(cell.id, options.matrix.flaky) ? Math.max(options.retries ?? 0, 2) : (options.retries ?? 0));
  const outcomes = await runAttempt(client, cells, server, options, 1);
  let again = cells.filter((c) => !outcomes.get(c.case)!.passed && retriesOf(c) > 0);
  for (let attempt = 2; again.length > 0; attempt++) {
    const retried = await runAttempt(client, again, server, options, attempt);
    for (const cell of again) {
      const first = outcomes.get(cell.case)!;
      const now = retried.get(cell.case)!;
      outcomes.set(cell.case, { ...now, attempts: attempt, ...(now.passed ? { firstError: first.firstError ?? first.error ?? '' } : {}) });
    }
    again = again.filter((c) => !outcomes.get(c.case)!.passed && retriesOf(c) >= attempt);
  }
  for (const cell of cells) record(cell, outcomes.get(cell.case)!);
}

/** One attempt at some cells of a pairing: one client process per batch; an outcome per case. */
async function runAttempt(
  client: string,
  cells: Cell[],
  server: ServerHandle,
  options: ExecuteOptions & { groupDir: string },
  attempt: number,
): Promise<Map<string, Outcome>> {
  const { matrix, launcher, root } = options;
  const impl = matrix.implementations[client]!;
  const transport = transportArgs(matrix, client, cells[0]!.transport);
  const baseArgs = [
    `--server_host=${server.host}`,
    `--server_port=${server.port}`,
    ...transport.client_args,
    ...(options.clientFault ? [`--client_fault=${options.clientFault}`] : []),
  ];
  const suffix = attempt > 1 ? `.attempt${attempt}` : '';
  const outcomes = new Map<string, Outcome>();
  const batches = impl.batch ? [cells] : cells.map((c) => [c]);
  for (const batch of batches) {
    const batchLog = impl.batch ? join(options.groupDir, `client-${client}${suffix}.log`) : join(options.groupDir, `client-${client}`, `${batch[0]!.case}${suffix}.log`);
    const log = relative(root, batchLog);
    const pending = new Set(batch.map((c) => c.case));
    const run = await launcher.runClient({
      impl: client,
      command: impl.client!,
      args: [...baseArgs, `--test_case=${batch.map((c) => c.case).join(',')}`],
      logFile: batchLog,
      timeoutMs: CLIENT_BASE_MS + CASE_BUDGET_MS * batch.length,
      onLine: (line) => {
        const reported = parseCaseLine(line);
        if (!reported || !pending.delete(reported.case)) return;
        outcomes.set(reported.case, { passed: reported.status === 'passed', durationMs: reported.ms ?? 0, log, ...(reported.error ? { error: reported.error } : {}) });
      },
    });
    if (pending.size === 0) continue;
    const why = unreportedReason(run, server, batch.length === 1 && !impl.batch);
    const tail = logTail(batchLog);
    for (const name of pending) {
      const passed = why === undefined;
      outcomes.set(name, { passed, durationMs: run.ms / batch.length, log, ...(passed ? {} : { error: `${why}\n${tail}` }) });
    }
  }
  return outcomes;
}

/** The flags of a transport for one implementation: its own override, or the transport's. */
export function transportArgs(matrix: Matrix, impl: string, transport: string): { server_args: string[]; client_args: string[] } {
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
function unreportedReason(run: { exitCode: number | undefined; signal: string | undefined; timedOut: boolean; ms: number }, server: ServerHandle, exitCodeOnly: boolean): string | undefined {
  if (run.timedOut) return `client killed after ${run.ms} ms: it exceeded its time limit`;
  if (exitCodeOnly && run.exitCode === 0) return undefined;
  if (!server.running()) return 'the server exited during the run';
  if (run.signal) return `client killed by ${run.signal} before reporting this case`;
  return `client exited with code ${run.exitCode} without reporting this case`;
}
