/**
 * The regression gate end to end: shards merged equal one unsharded run, and a baseline diff
 * lists an injected regression and exits 1.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../ts-common/src/paths.js';
import type { Results } from '../runner/src/results.js';

const root = repoRoot();
const cli = join(root, 'build/ts/runner/src/cli.js');
const matrix = (...args: string[]) => execa('node', [cli, ...args], { cwd: root, reject: false, all: true, env: { NO_COLOR: '1' } });
const SELECTION = ['--versions', 'default', '--suites', 'seeds', '--transports', 'insecure', '--clients', 'ts,go', '--servers', 'ts,go'];
const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
const statuses = (r: Results) => r.cells.map((c) => `${c.id} ${c.status}`);

describe('the regression gate', () => {
  let unsharded: string;

  beforeAll(async () => {
    unsharded = mkdtempSync(join(tmpdir(), 'gate-'));
    expect((await matrix(...SELECTION, '--out', unsharded)).exitCode).toBe(0);
  }, 120_000);

  it('--shard 1/3, 2/3, 3/3 then merge gives the same cells and statuses as one unsharded run', async () => {
    const dirs = [1, 2, 3].map(() => mkdtempSync(join(tmpdir(), 'shard-')));
    for (const [i, dir] of dirs.entries()) expect((await matrix(...SELECTION, '--shard', `${i + 1}/3`, '--out', dir)).exitCode).toBe(0);
    expect(dirs.map((d) => read(d).cells.length).reduce((a, b) => a + b)).toBe(read(unsharded).cells.length);
    const merged = mkdtempSync(join(tmpdir(), 'merged-'));
    const merge = await matrix('merge', ...dirs, '--out', merged);
    expect(merge.exitCode).toBe(0);
    expect(statuses(read(merged))).toEqual(statuses(read(unsharded)));
    for (const report of ['junit.xml', 'summary.md']) expect(existsSync(join(merged, report))).toBe(true);
  }, 180_000);

  it('a baseline diff lists an injected regression and exits 1; compare does the same', async () => {
    const regressed = mkdtempSync(join(tmpdir(), 'regressed-'));
    const run = await matrix(...SELECTION, '--server-fault', 'stream-truncate', '--baseline', join(unsharded, 'results.json'), '--out', regressed);
    expect(run.exitCode).toBe(1);
    expect(run.all).toMatch(/newly failing \(4\):\n {2}ts→ts\/insecure\/seeds\/stream_server: passed → failed/);
    const compare = await matrix('compare', join(unsharded, 'results.json'), join(regressed, 'results.json'));
    expect(compare.exitCode).toBe(1);
    expect(compare.all).toMatch(/go→go\/insecure\/seeds\/stream_server: passed → failed/);
    const same = await matrix('compare', join(unsharded, 'results.json'), join(unsharded, 'results.json'));
    expect(same).toMatchObject({ exitCode: 0, all: 'no change against the baseline' });
  }, 120_000);

  it('--update-baseline writes the baseline; a matching run then passes the gate', async () => {
    const baseline = join(mkdtempSync(join(tmpdir(), 'baseline-')), 'baseline.json');
    expect((await matrix(...SELECTION, '--grep', 'panda', '--baseline', baseline, '--update-baseline', '--out', mkdtempSync(join(tmpdir(), 'b-')))).exitCode).toBe(0);
    const again = await matrix(...SELECTION, '--grep', 'panda', '--baseline', baseline, '--out', mkdtempSync(join(tmpdir(), 'b-')));
    expect(again.exitCode).toBe(0);
    expect(again.all).toMatch(/no change against the baseline|slower|faster/);
  }, 120_000);

  it('merge refuses an incomplete set of shards (exit 2, naming the missing one) unless --allow-partial, which marks the result incomplete', async () => {
    const dirs = [1, 2].map(() => mkdtempSync(join(tmpdir(), 'shard-')));
    for (const [i, dir] of dirs.entries()) expect((await matrix(...SELECTION, '--shard', `${i + 1}/3`, '--out', dir)).exitCode).toBe(0);
    const third = read(unsharded).cells.length - dirs.map((d) => read(d).cells.length).reduce((a, b) => a + b);
    const refused = await matrix('merge', ...dirs, '--out', mkdtempSync(join(tmpdir(), 'merged-')));
    expect(refused.exitCode).toBe(2);
    expect(refused.all).toMatch(new RegExp(`^matrix: merge: these results do not make one whole run: shard 3/3 is missing \\(${third} cells\\)\\. Merge them anyway with --allow-partial`));
    const partialOut = mkdtempSync(join(tmpdir(), 'merged-'));
    const partial = await matrix('merge', ...dirs, '--allow-partial', '--out', partialOut);
    expect(partial.exitCode).toBe(1);
    const merged = read(partialOut);
    expect(merged.cells).toHaveLength(read(unsharded).cells.length);
    expect(merged.cells.filter((c) => c.status === 'not_run')).toHaveLength(third);
    expect(merged.incomplete).toEqual({ reason: 'partial merge: shard 3/3 is missing (' + third + ' cells)', notRun: third });
    expect(partial.all).toMatch(/INCOMPLETE RUN — partial merge: shard 3\/3 is missing/);
    // Shards of different plans do not merge either.
    const other = mkdtempSync(join(tmpdir(), 'shard-'));
    expect((await matrix('--suites', 'seeds', '--transports', 'tls', '--clients', 'ts', '--servers', 'ts', '--shard', '3/3', '--out', other)).exitCode).toBe(0);
    const mismatched = await matrix('merge', ...dirs, other, '--out', mkdtempSync(join(tmpdir(), 'merged-')));
    expect(mismatched.exitCode).toBe(2);
    expect(mismatched.all).toMatch(/is a slice of another plan than/);
  }, 180_000);

  it('a selection that matches no cell is an error (exit 2) naming the nearest cells, not a green run of nothing', async () => {
    const typo = await matrix(...SELECTION, '--grep', 'ts→go/insecure/seeds/strem_server', '--out', mkdtempSync(join(tmpdir(), 'none-')));
    expect(typo.exitCode).toBe(2);
    expect(typo.all).toMatch(/^matrix: no cell matches --clients ts,go --servers ts,go --suites seeds --transports insecure --grep 'ts→go\/insecure\/seeds\/strem_server'; nearest cell ids: ts→go\/insecure\/seeds\/stream_server, /);
    const empty = await matrix('--clients', '', '--out', mkdtempSync(join(tmpdir(), 'none-')));
    expect(empty.exitCode).toBe(2);
    expect(empty.all).toMatch(/^matrix: --clients: the list is empty; name at least one of: ts, python, go, cpp, upstream-go, raw, grpcurl, grpc-health-probe, h2spec$/);
    const excluded = await matrix('--suites', 'security', '--transports', 'insecure', '--list');
    expect(excluded.exitCode).toBe(2);
    expect(excluded.all).toMatch(/^matrix: no cell matches --suites security --transports insecure: these filters exclude each other/);
  }, 60_000);

  it('the gate fails exactly on newly failing cells: a failure already in the baseline passes it, listed as still failing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'old-failure-'));
    const failing = await matrix(...SELECTION, '--server-fault', 'stream-truncate', '--out', out);
    expect(failing.exitCode).toBe(1);
    const again = await matrix(...SELECTION, '--server-fault', 'stream-truncate', '--baseline', join(out, 'results.json'), '--out', mkdtempSync(join(tmpdir(), 'again-')));
    expect(again.all).toMatch(/still failing, as in the baseline \(these do not fail the gate\) \(4\):/);
    expect(again.all).toMatch(/no newly failing cell: the gate passes/);
    expect(again.exitCode).toBe(0);
  }, 120_000);

  it('compare and --baseline across version sets: added release lines and a bumped default release are named, the gate judges the cells', async () => {
    // The baseline ran the default releases only; the new run adds grpc-js 1.10.11 in both roles.
    const wider = mkdtempSync(join(tmpdir(), 'versions-'));
    const run = await matrix(...SELECTION.slice(2, 6), '--clients', 'ts@1.14.7,ts@1.10.11,go@1.85.0', '--servers', 'ts@1.14.7,ts@1.10.11,go@1.85.0', '--baseline', join(unsharded, 'results.json'), '--out', wider);
    expect(run.exitCode).toBe(0);
    expect(run.all).toMatch(/libraries changed \(cells named after them compare across releases\) \(1\):\n {2}ts@1\.10\.11: not in the baseline → grpc-js 1\.10\.11\n/);
    expect(run.all).toMatch(/added cells \(\d+\):\n {2}ts@1\.10\.11→/);
    expect(run.all).toMatch(/no newly failing cell: the gate passes/);
    // The other way round the release line is gone: its cells are removed, nothing fails.
    const back = await matrix('compare', join(wider, 'results.json'), join(unsharded, 'results.json'));
    expect(back.exitCode).toBe(0);
    expect(back.all).toMatch(/ts@1\.10\.11: grpc-js 1\.10\.11 → not in the new run/);
    expect(back.all).toMatch(/removed cells \(\d+\):\n {2}ts@1\.10\.11→/);
    // A baseline recorded when the default grpc-js was another release: the cells named `ts`
    // now compare across releases, which the diff says first; a failing cell of it fails the gate.
    const older = read(unsharded);
    older.implementations['ts'] = { ...older.implementations['ts']!, version: '1.13.0' };
    const file = join(wider, 'older-default.json');
    writeFileSync(file, JSON.stringify(older));
    const bumped = await matrix('compare', file, join(unsharded, 'results.json'));
    expect(bumped.exitCode).toBe(0);
    expect(bumped.all).toMatch(/^libraries changed \(cells named after them compare across releases\) \(1\):\n {2}ts: grpc-js 1\.13\.0 → grpc-js 1\.14\.7\n/);
    const regressed = mkdtempSync(join(tmpdir(), 'regressed-'));
    expect((await matrix(...SELECTION, '--grep', 'ts→ts/.*/greeter', '--server-fault', 'greeting-punctuation', '--out', regressed)).exitCode).toBe(1);
    const gate = await matrix('compare', file, join(regressed, 'results.json'));
    expect(gate.exitCode).toBe(1);
    expect(gate.all).toMatch(/ts: grpc-js 1\.13\.0 → grpc-js 1\.14\.7[\s\S]*newly failing \(\d+\):\n {2}ts→ts\/insecure\/seeds\/greeter/);
  }, 240_000);

  it('a missing or corrupt --baseline is an error before anything is built or started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baseline-'));
    const missing = await matrix(...SELECTION, '--baseline', join(dir, 'nope.json'), '--out', join(dir, 'out'));
    expect(missing.exitCode).toBe(2);
    expect(missing.all).toMatch(new RegExp(`^matrix: --baseline ${dir}/nope\\.json: cannot read results: ENOENT.*\\(record one with --update-baseline\\)$`));
    writeFileSync(join(dir, 'corrupt.json'), '{"schema": 1, "cells": [');
    const corrupt = await matrix(...SELECTION, '--baseline', join(dir, 'corrupt.json'), '--out', join(dir, 'out'));
    expect(corrupt.exitCode).toBe(2);
    expect(corrupt.all).toMatch(/^matrix: --baseline .*corrupt\.json: cannot read results: /);
    // Nothing ran: no server or client log was written.
    expect(existsSync(join(dir, 'out', 'logs'))).toBe(false);
  }, 60_000);
});
