/**
 * One matrix run, stage by stage: config → plan → build → execute → results → reporters.
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from './build.js';
import { ConfigError, loadMatrix, type Matrix } from './config.js';
import { emptyTimings, execute } from './execute.js';
import { checkDocker, ensureImages } from './images.js';
import { installCleanup, isStopping } from './launcher/children.js';
import { composeExecutable, DockerLauncher } from './launcher/docker.js';
import type { Launcher } from './launcher/launcher.js';
import { ProcessLauncher } from './launcher/process.js';
import { tryLock, type Release } from './locks.js';
import { checkPatterns, groupByServer, planCells, type Cell, type Selection, type ServerGroup } from './plan.js';
import type { Reporter } from './reporters/reporter.js';
import { globToRegExp, type CellResult, type Results, type Timings } from './results.js';

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
}

/** One run at a time writes to an output folder: a second one gets a clear error. */
async function claimOutDir(outDir: string): Promise<Release> {
  const release = await tryLock(outDir, '.matrix.lock');
  if (!release) throw new ConfigError(`another matrix run is writing to ${outDir}; wait for it to finish, or give this run its own --out DIR`);
  return release;
}

export const defaultJobs = (): number => availableParallelism();

export async function runMatrix(options: RunOptions): Promise<Results> {
  const startedAt = new Date();
  const matrix = loadMatrix(options.configFile);
  checkPatterns(matrix, globToRegExp);
  const cells = planCells(matrix, options.selection);
  const groups = groupByServer(matrix, cells);
  const logDir = join(options.outDir, 'logs');
  const releaseOutDir = await claimOutDir(options.outDir);
  try {
    return await runClaimed(options, { startedAt, matrix, cells, groups, logDir });
  } finally {
    await releaseOutDir().catch(() => undefined);
  }
}

async function runClaimed(
  options: RunOptions,
  { startedAt, matrix, cells, groups, logDir }: { startedAt: Date; matrix: Matrix; cells: Cell[]; groups: ServerGroup[]; logDir: string },
): Promise<Results> {
  rmSync(logDir, { recursive: true, force: true });

  const used = new Set(cells.flatMap((c) => [c.client, c.server]));
  const progress = options.onProgress ? { onProgress: options.onProgress } : {};
  let launcher: Launcher;
  let builds: Awaited<ReturnType<typeof ensureBuilt>>;
  const timings = emptyTimings();
  const buildStarted = performance.now();
  if (options.launcher === 'docker') {
    await checkDocker();
    const executable = await composeExecutable();
    const images = await ensureImages(matrix, used, { root: options.root, logDir, ...(options.dockerBase ? { base: options.dockerBase } : {}), ...progress });
    const tags = new Map([...images].flatMap(([impl, o]) => (o.tag ? [[impl, o.tag] as const] : [])));
    launcher = new DockerLauncher(options.root, tags, join(options.outDir, 'docker-compose.yml'), executable);
    builds = images;
  } else {
    builds = await ensureBuilt(matrix, used, { root: options.root, logDir, ...progress });
    launcher = new ProcessLauncher(options.root);
  }
  timings.buildMs = performance.now() - buildStarted;

  const collected: CellResult[] = [];
  const snapshot = (implementations: Results['implementations']): Results => ({
    schema: 1,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    implementations,
    cells: [...collected],
    timings: roundTimings(timings),
  });
  const finish = async (results: Results) => {
    for (const r of options.reporters) await r.onEnd(results);
  };
  const implementations: Results['implementations'] = {}; // execute() fills it as servers answer
  installCleanup(async () => {
    await finish(snapshot(implementations)); // results first: they must survive whatever follows
    await launcher.close();
  });

  for (const r of options.reporters) r.onBegin?.(cells.length);
  try {
    await execute(groups, {
      matrix,
      implementations,
      timings,
      ...(options.noBatch ? { noBatch: true } : {}),
      launcher,
      root: options.root,
      logDir,
      jobs: options.jobs ?? defaultJobs(),
      builds,
      ...(options.serverFault ? { serverFault: options.serverFault } : {}),
      ...(options.clientFault ? { clientFault: options.clientFault } : {}),
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      onCell: (result) => {
        collected.push(result);
        for (const r of options.reporters) r.onCell?.(result);
      },
    });
  } catch (err) {
    // A defect of the runner itself: the cells collected so far are still written.
    await launcher.close();
    if (!isStopping()) await finish(snapshot(implementations));
    throw err;
  }
  await launcher.close();
  // Report in plan order, whatever order the cells finished in.
  const order = new Map(cells.map((c, i) => [c.id, i]));
  collected.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  const results = snapshot(implementations);
  // After SIGINT/SIGTERM the signal handler has written the cells that really ran; what the
  // executor recorded since (peers refused or killed by the stop) must not overwrite them.
  if (!isStopping()) await finish(results);
  return results;
}

const roundTimings = (t: Timings): Timings => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v as number)])) as unknown as Timings;
