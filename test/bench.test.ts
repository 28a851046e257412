/**
 * npm run bench end to end, on a small selection and a small load: it writes bench.json with
 * figures for every pairing, and a baseline it cannot match makes it exit 1 naming the figures.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { BenchResults } from '../runner/src/bench-report.js';
import { repoRoot } from '../ts-common/src/paths.js';

const root = repoRoot();
const SMALL = ['--no-unbatched', '--versions', 'default', '--suites', 'seeds', '--transports', 'insecure', '--clients', 'ts,go', '--servers', 'ts,go', '--calls', '30', '--warmup', '3', '--messages', '300'];
const bench = (...args: string[]) => execa('node', ['build/ts/runner/src/bench.js', ...args], { cwd: root, reject: false, all: true, env: { NO_COLOR: '1' } });

describe('npm run bench', () => {
  let out: string;
  let figures: BenchResults;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'bench-'));
    const run = await bench(...SMALL, '--out', out);
    expect(run.exitCode === 0 ? '' : run.all).toBe('');
    figures = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as BenchResults;
  }, 180_000);

  it('measures the matrix warm, with where the time went', () => {
    expect(figures.throughput).toHaveLength(1);
    const [run] = figures.throughput;
    expect(run).toMatchObject({ mode: 'batched', cells: 4 * 17, bad: 0 });
    expect(run!.cellsPerS).toBeGreaterThan(0);
    expect(run!.timings).toMatchObject({ serverStarts: 4, clientRuns: 8 });
    expect(run!.timings.caseMs).toBeGreaterThan(0);
    expect(run!.timings.clientMs).toBeGreaterThan(run!.timings.caseMs);
    // The time line: every server group once, every cell in one of them.
    expect(run!.timings.groups).toHaveLength(4);
    expect(run!.timings.groups!.reduce((n, g) => n + g.cells, 0)).toBe(4 * 17);
    for (const g of run!.timings.groups!) expect(g.endMs).toBeGreaterThanOrEqual(g.startMs);
  });

  it('measures unary latency and streaming throughput for every pairing', () => {
    expect(figures.load!.pairings.map((p) => p.id)).toEqual(['ts→ts/insecure', 'go→ts/insecure', 'ts→go/insecure', 'go→go/insecure']);
    for (const p of figures.load!.pairings) {
      expect(p.errors).toBeUndefined();
      expect(p.unary!.calls).toBe(30);
      expect(p.unary!.p50_us).toBeGreaterThan(0);
      expect(p.unary!.p99_us).toBeGreaterThanOrEqual(p.unary!.p50_us);
      expect(p.server_streaming).toMatchObject({ messages: 300, msgs_per_s: expect.any(Number) });
    }
  });

  it('against a baseline it cannot match: exit 1 and the regressions named; against itself: exit 0', async () => {
    const impossible = structuredClone(figures);
    impossible.throughput[0]!.cellsPerS *= 100;
    for (const p of impossible.load!.pairings) p.unary!.p50_us = 0.01;
    const baseline = join(out, 'impossible.json');
    writeFileSync(baseline, JSON.stringify(impossible));
    const worse = await bench('--part', 'load', '--clients', 'go', '--servers', 'go', '--calls', '30', '--warmup', '3', '--messages', '300', '--out', mkdtempSync(join(tmpdir(), 'bench-')), '--baseline', baseline, '--tolerance', '100');
    // Tiny loads are noisy: only a figure 101 times worse counts here, which only the doctored p50 is.
    expect(worse.exitCode).toBe(1);
    expect(worse.all).toMatch(/go→go\/insecure unary p50 µs\s+0\.01\s+[\d.]+\s+\+\d+ % worse\s+REGRESSION/);
    expect(worse.all).toMatch(/^1 regression$/m);

    const same = await bench('--part', 'load', '--clients', 'go', '--servers', 'go', '--calls', '30', '--warmup', '3', '--messages', '300', '--out', mkdtempSync(join(tmpdir(), 'bench-')), '--baseline', join(out, 'bench.json'), '--tolerance', '100');
    expect(same.all).toMatch(/0 regressions/);
    expect(same.exitCode).toBe(0);
  }, 120_000);

  it('bad options exit 2 with the reason', async () => {
    expect((await bench('--part', 'speed')).all).toMatch(/--part: unknown part "speed"; available: throughput, load/);
    const noLoadMode = await bench('--part', 'load', '--clients', 'upstream-go');
    expect(noLoadMode.exitCode).toBe(2);
    expect(noLoadMode.all).toMatch(/--clients: no load mode for "upstream-go"; available: ts, python, go/);
  });
});
