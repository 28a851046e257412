/**
 * One matrix run, stage by stage: config → plan → build → execute → results → reporters.
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from './build.js';
import { loadMatrix } from './config.js';
import { execute } from './execute.js';
import { checkDocker, ensureImages } from './images.js';
import { installCleanup, isStopping } from './launcher/children.js';
import { composeExecutable, DockerLauncher } from './launcher/docker.js';
import type { Launcher } from './launcher/launcher.js';
import { ProcessLauncher } from './launcher/process.js';
import { checkPatterns, groupByServer, planCells, type Selection } from './plan.js';
import type { Reporter } from './reporters/reporter.js';
import { globToRegExp, type CellResult, type Results } from './results.js';

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
}

export const defaultJobs = (): number => availableParallelism();

export async function runMatrix(options: RunOptions): Promise<Results> {
  const startedAt = new Date();
  const matrix = loadMatrix(options.configFile);
  checkPatterns(matrix, globToRegExp);
  const cells = planCells(matrix, options.selection);
  const groups = groupByServer(matrix, cells);
  const logDir = join(options.outDir, 'logs');
  rmSync(logDir, { recursive: true, force: true });

  const used = new Set(cells.flatMap((c) => [c.client, c.server]));
  const progress = options.onProgress ? { onProgress: options.onProgress } : {};
  let launcher: Launcher;
  let builds: Awaited<ReturnType<typeof ensureBuilt>>;
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

  const collected: CellResult[] = [];
  const snapshot = (implementations: Results['implementations']): Results => ({
    schema: 1,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    implementations,
    cells: [...collected],
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
  await execute(groups, {
    matrix,
    implementations,
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
