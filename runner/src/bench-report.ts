/**
 * The benchmark's results model (reports/bench.json), its table and its comparison with a
 * baseline — pure functions, so the bench script only measures.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './config.js';
import type { Timings } from './results.js';

/** One warm run of the matrix. */
export interface ThroughputRun {
  /** `batched` (clients run a pairing per process where they can) or `unbatched` (--no-batch). */
  mode: 'batched' | 'unbatched';
  /** Where the peers ran (absent: process, in bench.json written before launchers were compared). */
  launcher?: 'process' | 'docker';
  cells: number;
  wallMs: number;
  cellsPerS: number;
  /** Cells that failed or passed unexpectedly (a healthy run has none). */
  bad: number;
  timings: Timings;
  /**
   * CPU seconds during the run: `machine` is every process of the machine (/proc/stat: peers,
   * the Docker daemon, the runner — and anything else running then), `runner` the runner's own.
   * Absent where /proc/stat is not there.
   */
  cpu?: { machineS: number; runnerS: number };
}

/** The label of a run in tables and comparisons: `batched`, or `docker batched`. */
export const runLabel = (r: Pick<ThroughputRun, 'mode' | 'launcher'>): string => (r.launcher && r.launcher !== 'process' ? `${r.launcher} ${r.mode}` : r.mode);

export interface PairingLoad {
  /** client→server/transport */
  id: string;
  client: string;
  server: string;
  transport: string;
  unary?: { calls: number; p50_us: number; p99_us: number; mean_us: number };
  server_streaming?: { messages: number; msgs_per_s: number };
  /** What went wrong, per measurement or for the whole pairing. */
  errors?: string[];
}

export interface LoadSettings {
  calls: number;
  warmup: number;
  messages: number;
  size: number;
  timeLimitMs: number;
}

export interface BenchResults {
  schema: 1;
  startedAt: string;
  machine: { cpus: number; cpuModel: string; node: string };
  throughput: ThroughputRun[];
  load?: { settings: LoadSettings; pairings: PairingLoad[] };
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function renderThroughput(runs: ThroughputRun[]): string {
  if (runs.length === 0) return '';
  const rows = [['matrix (warm)', 'cells', 'wall', 'cells/s', 'CPU (machine)', 'CPU (runner)', 'build', 'server starts', 'client runs (processes)', 'of which cases', 'start-up+exit']];
  for (const r of runs) {
    const t = r.timings;
    rows.push([
      runLabel(r),
      String(r.cells),
      s(r.wallMs),
      r.cellsPerS.toFixed(1),
      r.cpu ? `${r.cpu.machineS.toFixed(1)} s` : 'n/a',
      r.cpu ? `${r.cpu.runnerS.toFixed(1)} s` : 'n/a',
      s(t.buildMs ?? 0),
      `${t.serverStarts} × = ${s(t.serverStartMs)}`,
      `${t.clientRuns}${t.clientProcesses !== undefined ? ` (${t.clientProcesses})` : ''} × = ${s(t.clientMs)}`,
      s(t.caseMs),
      // A client that runs its cases at once (h2spec) makes their sum exceed its run's time.
      t.clientMs >= t.caseMs ? s(t.clientMs - t.caseMs) : 'n/a',
    ]);
  }
  const concurrent = runs.some((r) => r.timings.clientMs < r.timings.caseMs)
    ? '\n(start-up+exit n/a: some client runs its cases concurrently — h2spec runs several tests at once — so the cases add up to more than its run time)'
    : '';
  const bad = runs.filter((r) => r.bad > 0).map((r) => `\nwarning: the ${runLabel(r)} run had ${r.bad} failing cells (see its results.json)`).join('');
  return `${table(rows)}\n(time per peer is summed over peers running in parallel, so it can exceed the wall time)${concurrent}${timeLines(runs)}${launcherRatios(runs)}${bad}\n`;
}

/**
 * Where each run's wall time went, from its server groups' time line: how long the cases took,
 * how much of it the CPU-bound and the paced groups kept busy, and the group that ended last (a
 * long group started late leaves job slots idle).
 */
function timeLines(runs: ThroughputRun[]): string {
  const lines: string[] = [];
  for (const r of runs) {
    const groups = r.timings.groups;
    if (!groups || groups.length === 0) continue;
    const busy = (paced: boolean) => {
      const own = groups.filter((g) => (g.paced === true) === paced);
      return own.length === 0 ? 'none' : `${own.length} busy ${s(own.reduce((sum, g) => sum + g.endMs - g.startMs, 0))}`;
    };
    const last = groups.reduce((a, b) => (b.endMs > a.endMs ? b : a));
    const hosts = r.timings.hosts ?? [];
    const made = hosts.length === 0 ? '' : `; containers ready from ${s(Math.min(...hosts.map((h) => h.readyMs)))} to ${s(Math.max(...hosts.map((h) => h.readyMs)))} (${hosts.length})`;
    lines.push(`
${runLabel(r)}: cases ${s(last.endMs)}; CPU-bound groups ${busy(false)}, paced groups ${busy(true)}; last to end: ${last.group} (${last.cells} cells, ${s(last.startMs)} → ${s(last.endMs)})${made}`);
  }
  return lines.join('');
}

/** `docker / process (batched): wall 1.4×, machine CPU 1.2×` for each mode both launchers ran. */
function launcherRatios(runs: ThroughputRun[]): string {
  const lines: string[] = [];
  for (const docker of runs.filter((r) => r.launcher === 'docker')) {
    const local = runs.find((r) => (r.launcher ?? 'process') === 'process' && r.mode === docker.mode);
    if (!local) continue;
    const cpu = docker.cpu && local.cpu && local.cpu.machineS > 0 ? `, machine CPU ${(docker.cpu.machineS / local.cpu.machineS).toFixed(2)}×` : '';
    const same = docker.cells === local.cells ? '' : ` (not the same cells: ${docker.cells} against ${local.cells})`;
    lines.push(`\ndocker / process (${docker.mode}): wall ${(docker.wallMs / local.wallMs).toFixed(2)}×${cpu}${same}`);
  }
  return lines.join('');
}

export function renderLoad(load: NonNullable<BenchResults['load']>): string {
  const { settings: l } = load;
  const rows = [['pairing', 'unary calls', 'p50 µs', 'p99 µs', 'mean µs', 'stream msgs/s']];
  for (const p of load.pairings) {
    rows.push([
      p.id,
      p.unary ? String(p.unary.calls) : '-',
      p.unary ? p.unary.p50_us.toFixed(1) : '-',
      p.unary ? p.unary.p99_us.toFixed(1) : '-',
      p.unary ? p.unary.mean_us.toFixed(1) : '-',
      p.server_streaming ? Math.round(p.server_streaming.msgs_per_s).toString() : '-',
    ]);
  }
  const errors = load.pairings.flatMap((p) => (p.errors ?? []).map((e) => `\n✗ ${p.id}: ${e}`)).join('');
  const head = `load: ${l.calls} unary calls after ${l.warmup} warm-up, one in flight, ${l.size}-byte payloads; one server stream of ${l.messages} × ${l.size} bytes; at most ${s(l.timeLimitMs)} each`;
  return `${head}\n${table(rows)}${errors}\n`;
}

export interface BenchChange {
  what: string;
  baseline: number;
  now: number;
  /** Relative change in the bad direction (0.3 = 30 % worse); negative: better. */
  worse: number;
  regression: boolean;
}

/** Every figure present in both, with how much worse it got; regressions beyond `tolerance`. */
export function compareBench(baseline: BenchResults, now: BenchResults, tolerance: number): BenchChange[] {
  const changes: BenchChange[] = [];
  const add = (what: string, before: number | undefined, after: number | undefined, higherIsBetter: boolean) => {
    if (before === undefined || after === undefined || before <= 0 || after <= 0) return;
    const worse = higherIsBetter ? before / after - 1 : after / before - 1;
    changes.push({ what, baseline: before, now: after, worse, regression: worse > tolerance });
  };
  for (const run of now.throughput) {
    add(`matrix ${runLabel(run)} cells/s`, baseline.throughput.find((b) => runLabel(b) === runLabel(run))?.cellsPerS, run.cellsPerS, true);
  }
  for (const p of now.load?.pairings ?? []) {
    const b = baseline.load?.pairings.find((x) => x.id === p.id);
    add(`${p.id} unary p50 µs`, b?.unary?.p50_us, p.unary?.p50_us, false);
    add(`${p.id} unary p99 µs`, b?.unary?.p99_us, p.unary?.p99_us, false);
    add(`${p.id} stream msgs/s`, b?.server_streaming?.msgs_per_s, p.server_streaming?.msgs_per_s, true);
  }
  return changes;
}

export function renderChanges(changes: BenchChange[], tolerance: number): string {
  if (changes.length === 0) return 'against the baseline: no figure in common\n';
  const rows = [['figure', 'baseline', 'now', 'change', '']];
  for (const c of changes) {
    const pct = `${c.worse > 0 ? '+' : ''}${(c.worse * 100).toFixed(0)} % ${c.worse > 0 ? 'worse' : 'better'}`;
    rows.push([c.what, String(c.baseline), String(c.now), pct, c.regression ? 'REGRESSION' : '']);
  }
  const n = changes.filter((c) => c.regression).length;
  return `against the baseline (regression: more than ${(tolerance * 100).toFixed(0)} % worse):\n${table(rows)}\n${n} regression${n === 1 ? '' : 's'}\n`;
}

export function readBench(file: string): BenchResults {
  let parsed: Partial<BenchResults>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchResults>;
  } catch (err) {
    throw new ConfigError(`${file}: not a readable bench.json: ${(err as Error).message}`);
  }
  if (parsed.schema !== 1 || !Array.isArray(parsed.throughput)) throw new ConfigError(`${file}: not a bench.json (schema 1) written by npm run bench`);
  return parsed as BenchResults;
}
