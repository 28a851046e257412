#!/usr/bin/env node
/**
 * `npm run bench -- [options]`: figures, not a test.
 * (a) Throughput: the default matrix, warm, batched and with --no-batch: wall time, cells per
 *     second, and where the time goes (builds, server start-up, client processes, cases).
 * (b) Load: per pairing of the clients that have a load mode (`bench: true`) and the servers of
 *     the grpc.testing suite, unary latency p50/p99 and server-streaming messages per second for
 *     a fixed, bounded load on loopback.
 * Writes reports/bench.json and prints tables; --baseline FILE compares (exit 1 on a regression).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { VersionMode } from './plan.js';
import { intIn, parseOrExit, USAGE_ERROR } from '../../ts-common/src/cli.js';
import { repoRoot } from '../../ts-common/src/paths.js';
import { compareBench, readBench, renderChanges, renderLoad, renderThroughput, runLabel, type BenchResults, type LoadSettings, type PairingLoad, type ThroughputRun } from './bench-report.js';
import { ensureBuilt } from './build.js';
import { checkDocker, ensureImages } from './images.js';
import { planCells } from './plan.js';
import { ConfigError, loadMatrix, type Matrix } from './config.js';
import { startReady, tlsOf, transportArgs } from './execute.js';
import { installCleanup, isStopping } from './launcher/children.js';
import { ProcessLauncher } from './launcher/process.js';
import { jsonReporter } from './reporters/json.js';
import { isBad } from './results.js';
import { runMatrix } from './run.js';
import { systemFailure } from './files.js';

interface Options {
  config: string;
  out: string;
  part: string[];
  unbatched: boolean;
  clients?: string[];
  servers?: string[];
  suites?: string[];
  transports?: string[];
  versions?: VersionMode;
  loadTransports: string[];
  calls: number;
  warmup: number;
  messages: number;
  size: number;
  timeLimitMs: number;
  jobs?: number;
  launcher: Array<'process' | 'docker'>;
  dockerBase?: string;
  baseline?: string;
  updateBaseline?: boolean;
  tolerance: number;
}

const list = (v: string): string[] => v.split(',').map((x) => x.trim()).filter((x) => x !== '');

function ratio(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 1000) throw new ConfigError(`--tolerance: expected a ratio such as 0.5 (50 %), got "${v}"`);
  return n;
}

async function throughput(o: Options, root: string, matrix: Matrix, log: (line: string) => void): Promise<ThroughputRun[]> {
  const selection = {
    ...(o.clients ? { clients: o.clients } : {}),
    ...(o.servers ? { servers: o.servers } : {}),
    ...(o.suites ? { suites: o.suites } : {}),
    ...(o.transports ? { transports: o.transports } : {}),
    ...(o.versions ? { versions: o.versions } : {}),
  };
  const modes: Array<ThroughputRun['mode']> = o.unbatched ? ['batched', 'unbatched'] : ['batched'];
  // Warm means built: whatever is stale is built first, outside the measured runs.
  const used = Object.keys(matrix.implementations);
  const built = await ensureBuilt(matrix, used, { root, logDir: join(resolve(o.out), 'bench-runs', 'build-logs'), onProgress: log });
  const failed = [...built].filter(([, b]) => b.status === 'failed').map(([n, b]) => `${n}: ${b.error}`);
  if (failed.length > 0) throw new ConfigError(`the build failed, so nothing can be measured:\n${failed.join('\n')}`);
  const runs: ThroughputRun[] = [];
  for (const launcher of o.launcher) {
    // Warm in Docker means the images are built: a first, unmeasured run of the same selection builds them.
    if (launcher === 'docker') {
      log('docker images (built now if stale, not measured)…');
      await checkDocker();
      const peers = new Set(planCells(matrix, selection).flatMap((c) => [c.client, c.server]));
      const images = await ensureImages(matrix, peers, { root, logDir: join(resolve(o.out), 'bench-runs', 'build-logs'), onProgress: log, ...(o.dockerBase ? { base: o.dockerBase } : {}) });
      const broken = [...images].filter(([, b]) => b.status === 'failed').map(([n, b]) => `${n}: ${b.error}`);
      if (broken.length > 0) throw new ConfigError(`an image could not be built, so Docker cannot be measured:\n${broken.join('\n')}`);
    }
    for (const mode of modes) {
      const label = runLabel({ mode, launcher });
      log(`matrix, ${label}…`);
      const out = join(resolve(o.out), 'bench-runs', label.replace(' ', '-'));
      const before = cpuNow();
      const results = await runMatrix({
        root,
        configFile: o.config,
        selection,
        outDir: out,
        ...(o.jobs ? { jobs: o.jobs } : {}),
        reporters: [jsonReporter(out)],
        ...(mode === 'unbatched' ? { noBatch: true } : {}),
        ...(launcher === 'docker' ? { launcher, ...(o.dockerBase ? { dockerBase: o.dockerBase } : {}) } : {}),
      });
      const after = cpuNow();
      const run: ThroughputRun = {
        mode,
        launcher,
        cells: results.cells.length,
        wallMs: results.durationMs,
        cellsPerS: Math.round((results.cells.length / (results.durationMs / 1000)) * 10) / 10,
        bad: results.cells.filter((c) => isBad(c)).length,
        timings: results.timings!,
        ...(before.machineS !== undefined && after.machineS !== undefined ? { cpu: { machineS: round1(after.machineS - before.machineS), runnerS: round1(after.runnerS - before.runnerS) } } : {}),
      };
      log(`  ${run.cells} cells in ${(run.wallMs / 1000).toFixed(1)} s (${run.cellsPerS} cells/s); results: ${relative(process.cwd(), join(out, 'results.json'))}`);
      runs.push(run);
    }
  }
  return runs;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** CPU seconds so far: the whole machine's busy time (/proc/stat; undefined elsewhere) and this process's. */
function cpuNow(): { machineS: number | undefined; runnerS: number } {
  const usage = process.cpuUsage();
  const runnerS = (usage.user + usage.system) / 1e6;
  try {
    // cpu  user nice system idle iowait irq softirq steal …, in clock ticks (USER_HZ, 100 on Linux)
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return { machineS: (user + nice + system + irq + softirq + steal) / 100, runnerS };
  } catch {
    return { machineS: undefined, runnerS };
  }
}

function loadPlan(matrix: Matrix, o: Options): { clients: string[]; servers: string[] } {
  const impls = Object.entries(matrix.implementations);
  const benchClients = impls.filter(([, i]) => i.client && i.bench).map(([n]) => n);
  const suite = matrix.suites['grpc.testing'];
  if (!suite) throw new ConfigError(`${matrix.file}: the load benchmark needs the grpc.testing suite (its servers serve grpc.testing.TestService)`);
  const testServers = impls.filter(([n, i]) => i.server && (!suite.servers || suite.servers.includes(n))).map(([n]) => n);
  const pick = (what: string, available: string[], wanted: string[] | undefined) => {
    const unknown = (wanted ?? []).filter((w) => !available.includes(w));
    if (unknown.length > 0) throw new ConfigError(`--${what}s: no load mode for "${unknown.join('", "')}"; available: ${available.join(', ')}`);
    return wanted ?? available;
  };
  return { clients: pick('client', benchClients, o.clients), servers: pick('server', testServers, o.servers) };
}

interface BenchLine {
  bench?: string;
  error?: string;
  calls?: number;
  p50_us?: number;
  p99_us?: number;
  mean_us?: number;
  messages?: number;
  msgs_per_s?: number;
}

async function load(o: Options, root: string, matrix: Matrix, log: (line: string) => void): Promise<NonNullable<BenchResults['load']>> {
  const settings: LoadSettings = { calls: o.calls, warmup: o.warmup, messages: o.messages, size: o.size, timeLimitMs: o.timeLimitMs };
  const { clients, servers } = loadPlan(matrix, o);
  const built = await ensureBuilt(matrix, [...clients, ...servers], { root, logDir: join(resolve(o.out), 'bench-runs', 'build-logs'), onProgress: log });
  const launcher = new ProcessLauncher(root);
  const logDir = join(resolve(o.out), 'bench-runs', 'load');
  const pairings: PairingLoad[] = [];
  try {
    for (const transport of o.loadTransports) {
      if (!matrix.transports[transport]) throw new ConfigError(`--load-transports: unknown transport "${transport}"; available: ${Object.keys(matrix.transports).join(', ')}`);
      for (const server of servers) {
        log(`load against ${server} over ${transport}…`);
        const ids = clients.map((client) => ({ id: `${client}→${server}/${transport}`, client, server, transport }));
        const broken = [server, ...clients].map((n) => built.get(n)).find((b) => b?.status === 'failed');
        if (broken) {
          pairings.push(...ids.map((p) => ({ ...p, errors: [`build: ${broken.error}`] })));
          continue;
        }
        const serverLog = join(logDir, server, transport, 'server.log');
        const tls = tlsOf(transportArgs(matrix, server, transport).client_args);
        let handle;
        try {
          handle = await startReady({ server, transport, serverArgs: [] }, { matrix, launcher }, serverLog, tls);
        } catch (err) {
          pairings.push(...ids.map((p) => ({ ...p, errors: [`server ${server} ${(err as Error).message.split('\n')[0]}`] })));
          continue;
        }
        try {
          for (const p of ids) pairings.push(await loadPairing(p, handle, matrix, launcher, settings, join(logDir, server, transport, `client-${p.client}.log`)));
        } finally {
          await handle.stop();
        }
      }
    }
  } finally {
    await launcher.close();
  }
  return { settings, pairings };
}

async function loadPairing(
  p: Omit<PairingLoad, 'unary' | 'server_streaming' | 'errors'>,
  server: { host: string; port: number },
  matrix: Matrix,
  launcher: ProcessLauncher,
  l: LoadSettings,
  logFile: string,
): Promise<PairingLoad> {
  const impl = matrix.implementations[p.client]!;
  const result: PairingLoad = { ...p };
  const errors: string[] = [];
  // Bounded: each measurement stops at its time limit; past both and the start-up, it is killed.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), matrix.timeouts.client_start_ms + 2 * l.timeLimitMs + 5000);
  const run = await launcher.runClient({
    impl: p.client,
    command: impl.client!,
    args: [
      `--server_host=${server.host}`,
      `--server_port=${server.port}`,
      ...transportArgs(matrix, p.client, p.transport).client_args,
      '--bench=unary,server_streaming',
      `--bench_calls=${l.calls}`,
      `--bench_warmup=${l.warmup}`,
      `--bench_messages=${l.messages}`,
      `--bench_size=${l.size}`,
      `--bench_time_limit_ms=${l.timeLimitMs}`,
    ],
    logFile,
    signal: controller.signal,
    onLine: (text) => {
      let line: BenchLine;
      try {
        line = JSON.parse(text) as BenchLine;
      } catch {
        return;
      }
      if (line.error) errors.push(`${line.bench}: ${line.error}`);
      else if (line.bench === 'unary') result.unary = { calls: line.calls!, p50_us: line.p50_us!, p99_us: line.p99_us!, mean_us: line.mean_us! };
      else if (line.bench === 'server_streaming') result.server_streaming = { messages: line.messages!, msgs_per_s: line.msgs_per_s! };
    },
  });
  clearTimeout(timer);
  if (run.aborted) errors.push(`client killed after ${run.ms} ms: past its time bound`);
  else if (run.exitCode !== 0 && errors.length === 0) errors.push(`client exited with code ${run.exitCode ?? run.signal} (log: ${logFile})`);
  if (errors.length > 0) result.errors = errors;
  return result;
}

async function main(): Promise<number> {
  const root = repoRoot();
  const program = new Command('bench')
    .description('Measure the matrix: throughput of the whole matrix (batched and not) and per-pairing latency/throughput under a fixed load.')
    .option('--config <file>', 'the matrix file', join(root, 'matrix.yaml'))
    .option('--out <dir>', 'where bench.json (and the runs behind it) go', join(root, 'reports'))
    .addOption(new Option('--part <list>', 'what to measure: throughput, load').argParser(list).default(['throughput', 'load']))
    .option('--no-unbatched', 'throughput: skip the one-process-per-case run')
    .option('--clients <list>', 'only these clients', list)
    .option('--servers <list>', 'only these servers', list)
    .option('--suites <list>', 'throughput: only these suites', list)
    .option('--transports <list>', 'throughput: only these transports', list)
    .addOption(new Option('--versions <mode>', 'throughput: which library releases meet (as matrix --versions)').choices(['paired', 'default', 'all']))
    .option('--load-transports <list>', 'load: the transports to measure', list, ['insecure'])
    .option('--calls <n>', 'load: measured unary calls per pairing', intIn(1, 1_000_000), 2000)
    .option('--warmup <n>', 'load: unary calls before measuring', intIn(0, 1_000_000), 200)
    .option('--messages <n>', 'load: messages of the server stream', intIn(1, 1_000_000), 20_000)
    .option('--size <bytes>', 'load: payload bytes per message', intIn(0, 1_000_000), 16)
    .option('--time-limit-ms <ms>', 'load: time bound of each measurement', intIn(100, 600_000), 20_000)
    .option('--jobs <n>', 'throughput: CPU-bound server groups run at once (default: cores + 2, as npm run matrix)', intIn(1, 64))
    .addOption(new Option('--launcher <list>', 'throughput: where the peers run, side by side: process, docker (e.g. process,docker prints the ratio)').argParser(list).default(['process']))
    .option('--docker-base <image>', 'with --launcher docker: the base image of every Dockerfile (the offline base)')
    .option('--baseline <file>', 'compare with this bench.json; exit 1 on a regression')
    .option('--update-baseline', 'with --baseline: write these figures there afterwards')
    .option('--tolerance <ratio>', 'with --baseline: how much worse a figure may get before it counts as a regression', ratio, 0.5);
  const o = parseOrExit<Options>(program);
  const unknownPart = o.part.find((p) => p !== 'throughput' && p !== 'load');
  if (unknownPart) throw new ConfigError(`--part: unknown part "${unknownPart}"; available: throughput, load`);
  if (o.updateBaseline && !o.baseline) throw new ConfigError('--update-baseline needs --baseline FILE');
  const unknownLauncher = o.launcher.find((l) => l !== 'process' && l !== 'docker');
  if (unknownLauncher) throw new ConfigError(`--launcher: unknown launcher "${unknownLauncher}"; available: process, docker`);
  const baseline = o.baseline && !o.updateBaseline ? readBench(resolve(o.baseline)) : undefined;
  const matrix = loadMatrix(o.config);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const startedAt = new Date().toISOString();
  // A matrix run installs its own Ctrl-C handling (partial results, every peer stopped); the
  // load part needs the same stop without results: installing it is a no-op after a run.
  const runs = o.part.includes('throughput') ? await throughput(o, root, matrix, log) : [];
  installCleanup(() => undefined);
  const bench: BenchResults = {
    schema: 1,
    startedAt,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    throughput: runs,
    ...(o.part.includes('load') ? { load: await load(o, root, matrix, log) } : {}),
  };
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const file = join(out, 'bench.json');
  writeFileSync(file, `${JSON.stringify(bench, null, 2)}\n`);
  process.stdout.write(`\n${renderThroughput(bench.throughput)}${bench.load ? `\n${renderLoad(bench.load)}` : ''}\nwritten: ${file}\n`);
  let code = bench.load?.pairings.some((p) => p.errors) || bench.throughput.some((r) => r.bad > 0) ? 1 : 0;
  if (baseline) {
    const changes = compareBench(baseline, bench, o.tolerance);
    process.stdout.write(`\n${renderChanges(changes, o.tolerance)}`);
    if (changes.some((c) => c.regression)) code = 1;
  }
  if (o.baseline && o.updateBaseline) {
    const target = resolve(o.baseline);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
    process.stdout.write(`baseline updated: ${target}\n`);
  }
  return code;
}

main().then(
  (code) => {
    if (!isStopping()) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`bench: ${err.message}\n`);
    else process.stderr.write(`bench: ${systemFailure(err) ?? `setup failure: ${err instanceof Error ? err.stack ?? err.message : String(err)}`}\n`);
    process.exit(USAGE_ERROR);
  },
);
