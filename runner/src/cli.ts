#!/usr/bin/env node
/**
 * `npm run matrix -- [options]`: runs every selected client against every selected server and
 * reports a grid, results.json and junit.xml. Exit 0: nothing failed; 1: a cell failed or
 * passed unexpectedly; 2: bad input or a setup failure (reason on stderr).
 */
import { copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { intIn, parseOrExit, USAGE_ERROR } from '../../ts-common/src/cli.js';
import { repoRoot } from '../../ts-common/src/paths.js';
import { ConfigError, loadMatrix } from './config.js';
import { isStopping, stopReaper } from './launcher/children.js';
import { compareResults, gateExitCode, readResults, renderDiff } from './compare.js';
import { mergeResults, readParts } from './merge.js';
import { renderKnownFailures } from './suggest.js';
import { addRelease, renderReleases, withLatest } from './versions.js';
import { checkPatterns, parseShard, selectedCells, type Selection, type VersionMode } from './plan.js';
import { jsonReporter, writeResultsJson } from './reporters/json.js';
import { junitReporter, writeJunit } from './reporters/junit.js';
import { htmlReporter, writeHtml } from './reporters/html.js';
import { markdownReporter, writeMarkdown } from './reporters/markdown.js';
import { renderFailures, renderGrids, renderSummary, terminalReporter } from './reporters/terminal.js';
import { exitCodeOf, type Results } from './results.js';
import { checkWritable, systemFailure } from './files.js';
import { buildOnly, defaultJobs, runMatrix } from './run.js';

interface Options {
  config: string;
  versions?: VersionMode;
  clients?: string[];
  servers?: string[];
  suites?: string[];
  transports?: string[];
  networks?: string[];
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
  shard?: string;
  baseline?: string;
  updateBaseline?: boolean;
  batch: boolean;
  latest?: boolean;
  buildOnly?: boolean;
  saveImages?: string;
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
  // A container per client batch makes a Docker run slow: it takes the default releases unless
  // told otherwise (--versions, or a release named in --clients/--servers; every release has its image).
  const namesRelease = [...(o.clients ?? []), ...(o.servers ?? [])].some((n) => n.includes('@'));
  const versions = o.versions ?? (o.launcher === 'docker' && !namesRelease ? 'default' : 'paired');
  return {
    ...(versions !== 'paired' ? { versions } : {}),
    ...(o.clients ? { clients: o.clients } : {}),
    ...(o.servers ? { servers: o.servers } : {}),
    ...(o.suites ? { suites: o.suites } : {}),
    ...(o.transports ? { transports: o.transports } : {}),
    ...(o.networks ? { networks: o.networks } : {}),
    ...(grep ? { grep } : {}),
    ...(o.shard ? { shard: parseShard(o.shard) } : {}),
  };
}

/** `matrix compare OLD.json NEW.json`: the regression diff; exit 1 on anything newly failing. */
function compareMain(argv: string[]): number {
  const program = new Command('matrix compare').description('Compare two results.json files.').argument('<old>').argument('<new>');
  parseOrExit(program, ['node', 'compare', ...argv]);
  const [oldFile, newFile] = program.args as [string, string];
  const after = readResults(newFile);
  const diff = compareResults(readResults(oldFile), after);
  process.stdout.write(renderDiff(diff, after));
  return gateExitCode(diff, after);
}

/** `matrix versions [add IMPL VERSION]`: the declared library releases; pin and declare one more. */
async function versionsMain(argv: string[], root: string): Promise<number> {
  const program = new Command('matrix versions')
    .description('List the library releases of matrix.yaml, or pin, declare and build one more: `matrix versions add python 1.66.2`.')
    .argument('[action]', 'add')
    .argument('[impl]', 'an implementation of matrix.yaml (python, ts, go)')
    .argument('[version]', 'an exact library release, e.g. 1.66.2')
    .option('--config <file>', 'the matrix file', join(root, 'matrix.yaml'));
  const o = parseOrExit<{ config: string }>(program, ['node', 'versions', ...argv]);
  const [action, impl, version] = program.args as [string | undefined, string | undefined, string | undefined];
  if (action === undefined) {
    process.stdout.write(renderReleases(loadMatrix(o.config)));
    return 0;
  }
  if (action !== 'add' || impl === undefined || version === undefined) throw new ConfigError('versions: expected `versions` or `versions add IMPL VERSION` (e.g. versions add python 1.66.2)');
  await addRelease(resolve(o.config), root, impl, version, (line) => process.stdout.write(`${line}\n`));
  return 0;
}

/** `matrix merge DIR… --out DIR`: shard results as one results.json and every report. */
function mergeMain(argv: string[], root: string): number {
  const program = new Command('matrix merge')
    .description('Merge the results of shards into one results.json and every report.')
    .argument('<dirs...>')
    .option('--config <file>', 'the matrix file (for the plan order)', join(root, 'matrix.yaml'))
    .requiredOption('--out <dir>', 'where the merged reports go')
    .option('--allow-partial', 'merge even when shards are missing or incomplete (the result is marked incomplete)');
  const o = parseOrExit<{ config: string; out: string; allowPartial?: boolean }>(program, ['node', 'merge', ...argv]);
  const merged = mergeResults(loadMatrix(o.config), readParts(program.args), { allowPartial: o.allowPartial === true });
  const out = resolve(o.out);
  writeResultsJson(out, merged);
  writeJunit(out, merged, root);
  writeMarkdown(out, merged, root);
  writeHtml(out, merged, root);
  process.stdout.write(`${renderGrids(merged)}${renderFailures(merged)}${renderSummary(merged)}reports: ${join(out, 'results.json')}\n`);
  return exitCodeOf(merged);
}

async function main(): Promise<number> {
  const root = repoRoot();
  const [sub, ...rest] = process.argv.slice(2);
  if (sub === 'compare') return compareMain(rest);
  if (sub === 'merge') return mergeMain(rest, root);
  if (sub === 'versions') return versionsMain(rest, root);
  if (sub === 'known-failures') {
    const program = new Command('matrix known-failures').description('Print a minimal known_failures list for the failures of a run.').argument('[results]', 'results.json', join(root, 'reports', 'results.json'));
    parseOrExit(program, ['node', 'known-failures', ...rest]);
    process.stdout.write(renderKnownFailures(readResults(program.args[0] ?? join(root, 'reports', 'results.json'))));
    return 0;
  }
  const program = new Command('matrix')
    .description('Run every client against every server of matrix.yaml, case by case.\nAlso: `matrix compare OLD.json NEW.json`, `matrix merge DIR... --out DIR`, `matrix known-failures [results.json]`, `matrix versions [add IMPL VERSION]`.')
    .option('--config <file>', 'the matrix file', join(root, 'matrix.yaml'))
    .addOption(
      new Option('--versions <mode>', 'which library releases meet: paired (the default: each other release against the default releases, both ways), default (default releases only; the default with --launcher docker), all (every pair)')
        .choices(['paired', 'default', 'all']),
    )
    .option('--clients <list>', 'comma-separated client implementations (default: all); NAME is every release of it, NAME@VERSION one release', list)
    .option('--servers <list>', 'comma-separated server implementations (default: all)', list)
    .option('--suites <list>', 'comma-separated suites (default: all)', list)
    .option('--transports <list>', 'comma-separated transports (default: all)', list)
    .option('--networks <list>', 'comma-separated networks between client and server: direct (the default, no proxy) and those of matrix.yaml (through Toxiproxy)', list)
    .option('--grep <regex>', 'only cells whose id (client→server/transport/suite/case) matches')
    .addOption(new Option('--launcher <kind>', 'run the peers as local processes or in Docker containers').choices(['process', 'docker']).default('process'))
    .option('--docker-base <image>', 'with --launcher docker: base image of every Dockerfile instead of the official images (see ci/docker/offline-base.sh)')
    .option('--out <dir>', 'where reports and logs go', join(root, 'reports'))
    .option('--jobs <n>', 'servers run at once', intIn(1, 64), defaultJobs())
    .option('--no-batch', 'one client process per case for every implementation (batching off, to compare)')
    .option('--retries <n>', 'run a failed cell again up to N times (listed flaky cells: at least 2)', intIn(0, 10), 0)
    .option('--fail-on-flaky', 'a cell that passed only on a retry fails the run')
    .option('--shard <i/n>', 'run only the i-th of n slices of the sorted plan (merge them with `matrix merge`)')
    .option('--baseline <file>', 'compare with this results.json; exit 1 on anything newly failing')
    .option('--update-baseline', 'with --baseline: write this run\'s results there afterwards')
    .option('--latest', 'also run the newest release of each library, resolved from its registry now (other_versions.latest) and pinned for this run; recorded in results.json')
    .option('--list', 'print the planned cell ids and exit')
    .option('--build-only', 'build what the selected cells need (with --launcher docker: their images) and exit without running a cell')
    .option('--save-images <file>', 'with --build-only --launcher docker: also write those images into one archive (docker save), for `docker load` on other machines')
    .addOption(new Option('--server-fault <list>', 'self-test only: start every server with --fault=LIST').hideHelp())
    .addOption(new Option('--client-fault <name>', 'self-test only: run every client with --client_fault=NAME').hideHelp());
  const o = parseOrExit<Options>(program);
  const selection = selectionOf(o);
  if (o.list) {
    const matrix = loadMatrix(o.config);
    checkPatterns(matrix);
    // One write, flushed before the exit: a pipe takes about 64 KiB at once, and process.exit
    // would cut a longer list short.
    const text = selectedCells(matrix, selection).map((cell) => `${cell.id}\n`).join('');
    await new Promise<void>((done) => process.stdout.write(text, () => done()));
    return 0;
  }
  const outDir = resolve(o.out);
  if (o.saveImages && !o.buildOnly) throw new ConfigError('--save-images goes with --build-only (e.g. --build-only --launcher docker --save-images images.tar)');
  if (o.saveImages && o.launcher !== 'docker') throw new ConfigError('--save-images needs --launcher docker (it saves the images of the Docker launcher)');
  if (o.buildOnly) {
    const outcomes = await buildOnly({ root, configFile: o.config, selection, outDir, launcher: o.launcher as 'process' | 'docker', ...(o.dockerBase ? { dockerBase: o.dockerBase } : {}), ...(o.saveImages ? { saveImages: o.saveImages } : {}), onProgress: (line) => process.stderr.write(`${line}\n`) });
    const rows = [...outcomes.values()].map((b) => `${b.impl}\t${b.status}\t${(b.ms / 1000).toFixed(1)} s${b.tag ? `\t${b.tag}` : ''}${b.error ? `\t${b.error}` : ''}\n`);
    process.stdout.write(`${rows.join('')}${o.saveImages ? `images saved: ${resolve(o.saveImages)}\n` : ''}`);
    return [...outcomes.values()].some((b) => b.status === 'failed') ? 1 : 0;
  }
  // The baseline is checked before anything is built or started, not after the whole matrix ran.
  if (o.updateBaseline && !o.baseline) throw new ConfigError('--update-baseline needs --baseline FILE');
  const baselineFile = o.baseline ? resolve(o.baseline) : undefined;
  const baseline = baselineFile && !o.updateBaseline ? readBaseline(baselineFile) : undefined;
  if (baselineFile && o.updateBaseline) checkWritable(dirname(baselineFile), `--baseline ${baselineFile}`);
  const latest = o.latest ? await withLatest(resolve(o.config), root, outDir, (line) => process.stderr.write(`${line}\n`)) : undefined;
  const results = await runMatrix({
    root,
    configFile: latest?.configFile ?? o.config,
    ...(latest ? { latest: latest.latest } : {}),
    selection,
    outDir,
    jobs: o.jobs,
    ...(o.serverFault ? { serverFault: o.serverFault } : {}),
    ...(o.clientFault ? { clientFault: o.clientFault } : {}),
    retries: o.retries,
    ...(o.batch ? {} : { noBatch: true }),
    launcher: o.launcher as 'process' | 'docker',
    ...(o.dockerBase ? { dockerBase: o.dockerBase } : {}),
    reporters: [terminalReporter(), jsonReporter(outDir), junitReporter(outDir, root), markdownReporter(outDir, root), htmlReporter(outDir, root)],
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`reports: ${['results.json', 'junit.xml', 'summary.md', 'report.html'].map((f) => join(outDir, f)).join(', ')}\n`);
  const failOnFlaky = o.failOnFlaky === true;
  if (baselineFile && o.updateBaseline) {
    if (results.incomplete) throw new ConfigError(`--update-baseline: not updating ${baselineFile}: this run is incomplete (${results.incomplete.reason})`);
    copyFileSync(join(outDir, 'results.json'), baselineFile);
    process.stdout.write(`baseline updated: ${baselineFile}\n`);
  }
  if (!baseline) return exitCodeOf(results, failOnFlaky);
  // With a baseline, the gate fails on what got worse (and on an incomplete run), not on
  // failures the baseline already had: those are listed as still failing.
  const diff = compareResults(baseline, results);
  process.stdout.write(`against the baseline ${baselineFile}:\n${renderDiff(diff, results)}`);
  return gateExitCode(diff, results, failOnFlaky);
}

/** The baseline as given to --baseline: a missing or corrupt file is a one-line error. */
function readBaseline(file: string): Results {
  try {
    return readResults(file);
  } catch (err) {
    throw new ConfigError(`--baseline ${(err as Error).message} (record one with --update-baseline)`);
  }
}

/** Exit once the reaper has made its last sweep (the signal handler owns the exit after a signal). */
const exit = (code: number) => {
  if (!isStopping()) void stopReaper().finally(() => process.exit(code));
};

main().then(exit, (err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`matrix: ${err.message}\n`);
  else process.stderr.write(`matrix: ${systemFailure(err) ?? `setup failure: ${err instanceof Error ? err.stack ?? err.message : String(err)}`}\n`);
  exit(USAGE_ERROR);
});
