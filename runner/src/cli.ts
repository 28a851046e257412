#!/usr/bin/env node
/**
 * `npm run matrix -- [options]`: runs every selected client against every selected server and
 * reports a grid, results.json and junit.xml. Exit 0: nothing failed; 1: a cell failed or
 * passed unexpectedly; 2: bad input or a setup failure (reason on stderr).
 */
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { intIn, parseOrExit, USAGE_ERROR } from '../../ts-common/src/cli.js';
import { repoRoot } from '../../ts-common/src/paths.js';
import { ConfigError, loadMatrix } from './config.js';
import { isStopping } from './launcher/children.js';
import { planCells, type Selection } from './plan.js';
import { jsonReporter } from './reporters/json.js';
import { junitReporter } from './reporters/junit.js';
import { terminalReporter } from './reporters/terminal.js';
import { exitCodeOf } from './results.js';
import { defaultJobs, runMatrix } from './run.js';

interface Options {
  config: string;
  clients?: string[];
  servers?: string[];
  suites?: string[];
  transports?: string[];
  grep?: string;
  launcher: string;
  out: string;
  list?: boolean;
  jobs: number;
  serverFault?: string;
  clientFault?: string;
  retries: number;
  failOnFlaky?: boolean;
  dockerBase?: string;
}

const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter((s) => s !== '');

function selectionOf(o: Options): Selection {
  let grep: RegExp | undefined;
  if (o.grep !== undefined) {
    try {
      grep = new RegExp(o.grep);
    } catch (err) {
      throw new ConfigError(`--grep: not a regular expression: ${(err as Error).message}`);
    }
  }
  return {
    ...(o.clients ? { clients: o.clients } : {}),
    ...(o.servers ? { servers: o.servers } : {}),
    ...(o.suites ? { suites: o.suites } : {}),
    ...(o.transports ? { transports: o.transports } : {}),
    ...(grep ? { grep } : {}),
  };
}

async function main(): Promise<number> {
  const root = repoRoot();
  const program = new Command('matrix')
    .description('Run every client against every server of matrix.yaml, case by case.')
    .option('--config <file>', 'the matrix file', join(root, 'matrix.yaml'))
    .option('--clients <list>', 'comma-separated client implementations (default: all)', list)
    .option('--servers <list>', 'comma-separated server implementations (default: all)', list)
    .option('--suites <list>', 'comma-separated suites (default: all)', list)
    .option('--transports <list>', 'comma-separated transports (default: all)', list)
    .option('--grep <regex>', 'only cells whose id (client→server/transport/suite/case) matches')
    .addOption(new Option('--launcher <kind>', 'run the peers as local processes or in Docker containers').choices(['process', 'docker']).default('process'))
    .option('--docker-base <image>', 'with --launcher docker: base image of every Dockerfile instead of the official images (see ci/docker/offline-base.sh)')
    .option('--out <dir>', 'where reports and logs go', join(root, 'reports'))
    .option('--jobs <n>', 'servers run at once', intIn(1, 64), defaultJobs())
    .option('--retries <n>', 'run a failed cell again up to N times (listed flaky cells: at least 2)', intIn(0, 10), 0)
    .option('--fail-on-flaky', 'a cell that passed only on a retry fails the run')
    .option('--list', 'print the planned cell ids and exit')
    .addOption(new Option('--server-fault <list>', 'self-test only: start every server with --fault=LIST').hideHelp())
    .addOption(new Option('--client-fault <name>', 'self-test only: run every client with --client_fault=NAME').hideHelp());
  const o = parseOrExit<Options>(program);
  const selection = selectionOf(o);
  if (o.list) {
    for (const cell of planCells(loadMatrix(o.config), selection)) process.stdout.write(`${cell.id}\n`);
    return 0;
  }
  const outDir = resolve(o.out);
  const results = await runMatrix({
    root,
    configFile: o.config,
    selection,
    outDir,
    jobs: o.jobs,
    ...(o.serverFault ? { serverFault: o.serverFault } : {}),
    ...(o.clientFault ? { clientFault: o.clientFault } : {}),
    retries: o.retries,
    launcher: o.launcher as 'process' | 'docker',
    ...(o.dockerBase ? { dockerBase: o.dockerBase } : {}),
    reporters: [terminalReporter(), jsonReporter(outDir), junitReporter(outDir)],
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`reports: ${join(outDir, 'results.json')}, ${join(outDir, 'junit.xml')}\n`);
  return exitCodeOf(results, o.failOnFlaky === true);
}

main().then(
  (code) => {
    if (!isStopping()) process.exit(code); // else the signal handler exits once cleanup is done
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`matrix: ${err.message}\n`);
    else process.stderr.write(`matrix: setup failure: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(USAGE_ERROR);
  },
);
