/**
 * The regression gate end to end: shards merged equal one unsharded run, and a baseline diff
 * lists an injected regression and exits 1.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../ts-common/src/paths.js';
import type { Results } from '../runner/src/results.js';

const root = repoRoot();
const cli = join(root, 'build/ts/runner/src/cli.js');
const matrix = (...args: string[]) => execa('node', [cli, ...args], { cwd: root, reject: false, all: true, env: { NO_COLOR: '1' } });
const SELECTION = ['--suites', 'seeds', '--transports', 'insecure', '--clients', 'ts,go', '--servers', 'ts,go'];
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
});
