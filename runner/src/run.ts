/**
 * One matrix run, stage by stage: config → plan → build → execute → results → reporters.
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from './build.js';
import { loadMatrix } from './config.js';
import { execute } from './execute.js';
import { installCleanup } from './launcher/children.js';
import { ProcessLauncher } from './launcher/process.js';
import { groupByServer, planCells, type Selection } from './plan.js';
import type { Reporter } from './reporters/reporter.js';
import type { CellResult, Results } from './results.js';

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
}

export const defaultJobs = (): number => availableParallelism();

export async function runMatrix(options: RunOptions): Promise<Results> {
  const startedAt = new Date();
  const matrix = loadMatrix(options.configFile);
  const cells = planCells(matrix, options.selection);
  const groups = groupByServer(matrix, cells);
  const logDir = join(options.outDir, 'logs');
  rmSync(logDir, { recursive: true, force: true });

  const used = new Set(cells.flatMap((c) => [c.client, c.server]));
  const builds = await ensureBuilt(matrix, used, { root: options.root, logDir, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });

  const collected: CellResult[] = [];
  const snapshot = (implementations: Results['implementations']): Results => ({
    schema: 1,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    implementations,
    cells: [...collected],
  });
  const launcher = new ProcessLauncher(options.root);
  const finish = async (results: Results) => {
    for (const r of options.reporters) await r.onEnd(results);
  };
  let implementationsSoFar: Results['implementations'] = {};
  installCleanup(async () => {
    await launcher.close();
    await finish(snapshot(implementationsSoFar));
  });

  for (const r of options.reporters) r.onBegin?.(cells.length);
  const execution = await execute(groups, {
    matrix,
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
  implementationsSoFar = execution.implementations;
  await launcher.close();
  // Report in plan order, whatever order the cells finished in.
  const order = new Map(cells.map((c, i) => [c.id, i]));
  collected.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  const results = snapshot(execution.implementations);
  await finish(results);
  return results;
}
