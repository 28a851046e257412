/**
 * One matrix run, stage by stage: config → plan → build → execute → results → reporters.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { ensureBuilt, installedVersions, type BuildOutcome } from './build.js';
import { checkWritable, describeError } from './files.js';
import { ConfigError, DIRECT, loadMatrix, splitTransport, type Matrix } from './config.js';
import { NetworkProxy } from './launcher/network.js';
import { emptyTimings, execute } from './execute.js';
import { checkDocker, ensureImages } from './images.js';
import { installCleanup, isStopping, startReaper } from './launcher/children.js';
import { composeExecutable, DockerLauncher } from './launcher/docker.js';
import type { Launcher } from './launcher/launcher.js';
import { ProcessLauncher } from './launcher/process.js';
import { tryLock, type Release } from './locks.js';
import { caseSpec, checkPatterns, groupByServer, planRecord, selectedCells, type Cell, type Selection, type ServerGroup } from './plan.js';
import type { Reporter } from './reporters/reporter.js';
import { logWriteFailures } from './launcher/output.js';
import { notRunCell, type CellResult, type LauncherInfo, type PlanRecord, type Results, type Timings } from './results.js';

export interface RunOptions {
  root: string;
  configFile: string;
  selection: Selection;
  outDir: string;
  jobs?: number;
  /** Self-test only: every server runs with --fault=LIST. */
  serverFault?: string;
  /** Self-test only: every client runs with --client_fault=NAME. */
  clientFault?: string;
  retries?: number;
  reporters: Reporter[];
  /** Build progress lines. */
  onProgress?: (line: string) => void;
  /** `process` (default): local processes; `docker`: containers through Docker Compose. */
  launcher?: 'process' | 'docker';
  /** With docker: the base image for every Dockerfile (the offline base); absent: official images. */
  dockerBase?: string;
  /** One client process per case, even for clients that can run a whole pairing. */
  noBatch?: boolean;
  /** --latest: the newest release of each library, resolved from its registry for this run. */
  latest?: Record<string, string>;
}

/** One run at a time writes to an output folder: a second one gets a clear error. */
async function claimOutDir(outDir: string): Promise<Release> {
  const release = await tryLock(outDir, '.matrix.lock');
  if (!release) throw new ConfigError(`another matrix run is writing to ${outDir}; wait for it to finish, or give this run its own --out DIR`);
  return release;
}

/**
 * CPU-bound server groups run at once: two more than the cores, because a group also waits
 * (servers start, health checks, clients connect). Measured on 2 cores, the whole matrix (55642
 * cells, paced groups in slots of their own): 449 s with 3, 367 s with 4, no failure either way.
 * (Before paced groups had slots of their own, 4 lost twice the races of 3.)
 */
export const defaultJobs = (): number => availableParallelism() + 2;

export async function runMatrix(options: RunOptions): Promise<Results> {
  const startedAt = new Date();
  const matrix = loadMatrix(options.configFile);
  checkPatterns(matrix);
  const cells = selectedCells(matrix, options.selection);
  const plan = { ...planRecord(matrix, options.selection), ...(options.latest ? { latest: options.latest } : {}) };
  const groups = groupByServer(matrix, cells);
  const logDir = join(options.outDir, 'logs');
  checkWritable(options.outDir);
  startReaper(); // first: whatever ends this process, nothing it starts outlives it
  const releaseOutDir = await claimOutDir(options.outDir);
  try {
    return await runClaimed(options, { startedAt, matrix, cells, plan, groups, logDir });
  } finally {
    await releaseOutDir().catch(() => undefined);
  }
}

/**
 * `--build-only`: builds what the selected cells need — the local builds, or with `--launcher
 * docker` the images — and runs no cell. With `saveImages`, the images go into one archive
 * (`docker save`), which other machines `docker load` so that their runs build nothing: the
 * GitHub workflow builds the images once and shares them with its shard jobs that way.
 */
export async function buildOnly(options: Pick<RunOptions, 'root' | 'configFile' | 'selection' | 'outDir' | 'launcher' | 'dockerBase' | 'onProgress'> & { saveImages?: string }): Promise<Map<string, BuildOutcome & { tag?: string }>> {
  const matrix = loadMatrix(options.configFile);
  checkPatterns(matrix);
  const used = new Set(selectedCells(matrix, options.selection).flatMap((c) => [c.client, c.server]));
  const logDir = join(options.outDir, 'logs');
  const progress = options.onProgress ? { onProgress: options.onProgress } : {};
  if (options.launcher !== 'docker') return ensureBuilt(matrix, used, { root: options.root, logDir, ...progress });
  await checkDocker();
  startReaper();
  const images = await ensureImages(matrix, used, { root: options.root, logDir, ...(options.dockerBase ? { base: options.dockerBase } : {}), ...progress });
  const tags = [...images.values()].flatMap((o) => (o.tag ? [o.tag] : []));
  if (options.saveImages && tags.length > 0) {
    const file = resolve(options.saveImages);
    checkWritable(dirname(file), `--save-images ${file}`);
    const saved = await execa('docker', ['save', '-o', file, ...tags], { reject: false, all: true, stdin: 'ignore' });
    if (saved.failed) throw new ConfigError(`--save-images: docker save failed (exit code ${saved.exitCode}): ${(saved.all ?? '').trim().split('\n').at(-1) ?? ''}`);
  }
  return images;
}

async function runClaimed(
  options: RunOptions,
  { startedAt, matrix, cells, plan, groups, logDir }: { startedAt: Date; matrix: Matrix; cells: Cell[]; plan: PlanRecord; groups: ServerGroup[]; logDir: string },
): Promise<Results> {
  rmSync(logDir, { recursive: true, force: true });

  const used = new Set(cells.flatMap((c) => [c.client, c.server]));
  const progress = options.onProgress ? { onProgress: options.onProgress } : {};
  let launcher: Launcher;
  let launcherInfo: LauncherInfo = { name: 'process' };
  let builds: Awaited<ReturnType<typeof ensureBuilt>>;
  const timings = emptyTimings();
  const buildStarted = performance.now();
  if (options.launcher === 'docker') {
    await checkDocker();
    const compose = await composeExecutable();
    launcherInfo = { name: 'docker', compose: compose.version };
    const images = await ensureImages(matrix, used, { root: options.root, logDir, ...(options.dockerBase ? { base: options.dockerBase } : {}), ...progress });
    const tags = new Map([...images].flatMap(([impl, o]) => (o.tag ? [[impl, o.tag] as const] : [])));
    const docker = new DockerLauncher(options.root, tags, join(options.outDir, 'docker-compose.yml'), compose.executable, [logDir]);
    launcher = docker;
    builds = images;
  } else {
    builds = await ensureBuilt(matrix, used, { root: options.root, logDir, ...progress });
    launcher = new ProcessLauncher(options.root);
  }
  const network = await networkProxy(matrix, cells, options.root, logDir, progress.onProgress);
  timings.buildMs = performance.now() - buildStarted;
  const closeAll = async () => {
    await launcher.close();
    await network.proxy?.stop();
  };

  const collected = new Map<string, CellResult>();
  /**
   * The results as they stand, in plan order. A planned cell with no result is `not_run`, and
   * then the run is incomplete for `why` (a signal, a runner error, or a defect).
   */
  const snapshot = (implementations: Results['implementations'], why: string): Results => {
    const all = cells.map((c) => collected.get(c.id) ?? notRunCell(c, why));
    const notRun = all.filter((c) => c.status === 'not_run').length;
    return {
      schema: 1,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      implementations,
      cells: all,
      timings: roundTimings(timings),
      plan,
      launcher: launcherInfo,
      ...(notRun > 0 ? { incomplete: { reason: why, notRun } } : {}),
    };
  };
  const finish = async (results: Results) => {
    // Every report is tried; a report that cannot be written (a full disk) is said in one line.
    const failures: string[] = [];
    for (const r of options.reporters) {
      try {
        await r.onEnd(results);
      } catch (err) {
        failures.push(describeError(err));
      }
    }
    const lostLogs = logWriteFailures();
    if (lostLogs.length > 0) process.stderr.write(`warning: ${lostLogs.length} peer log(s) could not be written completely (${lostLogs[0]})\n`);
    if (failures.length > 0) {
      throw new ConfigError(`cannot write the reports to ${options.outDir}: ${[...new Set(failures)].join('; ')}; a report that is not there is lost (the terminal report above has the grid and the failures)`);
    }
  };
  const implementations: Results['implementations'] = {}; // execute() fills it as servers answer
  installCleanup(async (signal) => {
    await finish(snapshot(implementations, `interrupted by ${signal}`)).catch((err: Error) => process.stderr.write(`matrix: ${err.message}\n`)); // results first: they must survive whatever follows
    await closeAll();
  });

  // Containers are made while the cases run (the busiest first); a case never waits for one inside its deadlines.
  // Installed library versions, for the runner's checks: asked where the server runs, when its cells need them.
  const installedVersion = async (impl: string) => (await installedVersions(matrix, [impl], (i, command) => launcher.runCommand(i, command))).get(impl);
  for (const r of options.reporters) r.onBegin?.(cells.length);
  const casesFile = writeInstructions(matrix, cells, logDir);
  try {
    await execute(groups, {
      ...(casesFile ? { casesFile } : {}),
      matrix,
      implementations,
      timings,
      ...(options.noBatch ? { noBatch: true } : {}),
      launcher,
      ...network,
      installedVersion,
      root: options.root,
      logDir,
      jobs: options.jobs ?? defaultJobs(),
      builds,
      ...(options.serverFault ? { serverFault: options.serverFault } : {}),
      ...(options.clientFault ? { clientFault: options.clientFault } : {}),
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      onCell: (result) => {
        // Once a signal stops the run, peers die because the runner stops them: what the
        // executor records from then on says nothing about them. Those cells are not run.
        if (isStopping()) return;
        collected.set(result.id, result);
        for (const r of options.reporters) r.onCell?.(result);
      },
    });
  } catch (err) {
    // A defect of the runner itself: the cells collected so far are still written.
    await closeAll();
    if (!isStopping()) await finish(snapshot(implementations, `runner error: ${(err as Error).message}`)).catch(() => undefined);
    throw err;
  }
  await closeAll();
  const results = snapshot(implementations, 'the runner recorded no result for them (a defect of the runner)');
  // After SIGINT/SIGTERM the signal handler has written the cells that really ran; what the
  // executor recorded since (peers refused or killed by the stop) must not overwrite them.
  if (!isStopping()) await finish(results);
  return results;
}

/**
 * The run's network proxy (Toxiproxy), built and started when a cell is on a network other than
 * direct; when it cannot be built or started, why (the cells on networks fail with it, the rest run).
 */
async function networkProxy(matrix: Matrix, cells: Cell[], root: string, logDir: string, onProgress?: (line: string) => void): Promise<{ proxy?: NetworkProxy; proxyError?: string }> {
  if (!cells.some((c) => splitTransport(c.transport).network !== DIRECT)) return {};
  const tool = matrix.networkProxy!;
  const built = (await ensureBuilt(matrix, [tool], { root, logDir, ...(onProgress ? { onProgress } : {}) })).get(tool);
  if (built?.status === 'failed') return { proxyError: `the network proxy ${tool}: ${built.error}` };
  try {
    return { proxy: await NetworkProxy.start(matrix.tools[tool]!.command, root, join(logDir, 'network-proxy.log')) };
  } catch (err) {
    return { proxyError: (err as Error).message };
  }
}

/**
 * The instructions of the data suites' cases in this run (docs/peer-contract.md, --cases_file),
 * or undefined when the plan has none. An absolute path: clients run from other folders.
 */
function writeInstructions(matrix: Matrix, cells: Cell[], logDir: string): string | undefined {
  const cases: Record<string, unknown> = {};
  for (const cell of cells) {
    const scripted = caseSpec(matrix, cell).scripted;
    if (scripted) cases[scripted.name] = scripted.instruction;
  }
  if (Object.keys(cases).length === 0) return undefined;
  const file = resolve(logDir, 'scripted-cases.json');
  mkdirSync(logDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify({ cases }, null, 1)}\n`);
  return file;
}

const roundTimings = (t: Timings): Timings => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v) : v])) as unknown as Timings;
