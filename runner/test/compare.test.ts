import { compareResults, gateExitCode, isRegression, renderDiff } from '../src/compare.js';
import type { CellResult, CellStatus, Results } from '../src/results.js';

const cell = (id: string, status: CellStatus, durationMs = 10): CellResult => {
  const [pair = '', transport = '', suite = '', name = ''] = id.split('/');
  const [client = '', server = ''] = pair.split('→');
  return { id, client, server, transport, suite, case: name, status, durationMs, attempts: 1 };
};
const results = (...cells: CellResult[]): Results => ({ schema: 1, startedAt: '2026-01-01T00:00:00Z', durationMs: 1, implementations: {}, cells });

describe('compare', () => {
  const before = results(
    cell('a→b/t/s/stays', 'passed'),
    cell('a→b/t/s/breaks', 'passed'),
    cell('a→b/t/s/heals', 'failed'),
    cell('a→b/t/s/now-known', 'failed'),
    cell('a→b/t/s/slows', 'passed', 100),
    cell('a→b/t/s/gone', 'passed'),
  );
  const after = results(
    cell('a→b/t/s/stays', 'passed'),
    cell('a→b/t/s/breaks', 'failed'),
    cell('a→b/t/s/heals', 'passed'),
    cell('a→b/t/s/now-known', 'known_failure'),
    cell('a→b/t/s/slows', 'passed', 2000),
    cell('a→b/t/s/new', 'passed'),
  );

  it('sorts every change into its kind', () => {
    const diff = compareResults(before, after);
    expect(diff.newlyFailing.map((c) => c.id)).toEqual(['a→b/t/s/breaks']);
    expect(diff.newlyPassing.map((c) => c.id)).toEqual(['a→b/t/s/heals']);
    expect(diff.newlyKnown.map((c) => c.id)).toEqual(['a→b/t/s/now-known']);
    expect(diff.added).toEqual(['a→b/t/s/new']);
    expect(diff.removed).toEqual(['a→b/t/s/gone']);
    expect(diff.slower).toEqual([{ id: 'a→b/t/s/slows', beforeMs: 100, afterMs: 2000 }]);
    expect(isRegression(diff)).toBe(true);
    expect(renderDiff(diff)).toMatch(/newly failing \(1\):\n {2}a→b\/t\/s\/breaks: passed → failed/);
  });

  it('an unexpected pass is a regression; small duration changes are noise', () => {
    const diff = compareResults(results(cell('x→y/t/s/c', 'known_failure', 100)), results(cell('x→y/t/s/c', 'unexpected_pass', 400)));
    expect(isRegression(diff)).toBe(true);
    expect(diff.slower).toEqual([]);
  });

  it('no change says so', () => {
    const clean = results(cell('a→b/t/s/stays', 'passed'), cell('a→b/t/s/known', 'known_failure'));
    expect(renderDiff(compareResults(clean, clean))).toBe('no change against the baseline\n');
  });

  it('a failure already in the baseline, repeated, does not fail the gate and is listed as still failing', () => {
    const old = results(cell('a→b/t/s/broken', 'failed'), cell('a→b/t/s/fine', 'passed'));
    const now = results(cell('a→b/t/s/broken', 'failed'), cell('a→b/t/s/fine', 'passed'));
    const diff = compareResults(old, now);
    expect(gateExitCode(diff, now)).toBe(0);
    expect(renderDiff(diff, now)).toMatch(/still failing, as in the baseline \(these do not fail the gate\) \(1\):\n {2}a→b\/t\/s\/broken: failed\n[\s\S]*no newly failing cell: the gate passes/);
    expect(renderDiff(diff, now)).not.toMatch(/no change against the baseline/);
  });

  it('a newly added cell that fails is newly failing and fails the gate', () => {
    const now = results(cell('a→b/t/s/fine', 'passed'), cell('a→b/t/s/added', 'failed'));
    const diff = compareResults(results(cell('a→b/t/s/fine', 'passed')), now);
    expect(diff.newlyFailing).toEqual([{ id: 'a→b/t/s/added', before: 'absent', after: 'failed' }]);
    expect(gateExitCode(diff, now)).toBe(1);
    expect(renderDiff(diff, now)).toMatch(/newly failing \(1\):\n {2}a→b\/t\/s\/added: absent → failed/);
  });

  it('an incomplete new run fails the gate even with no newly failing cell, and lists the cells not run', () => {
    const old = results(cell('a→b/t/s/one', 'passed'), cell('a→b/t/s/two', 'passed'));
    const now = { ...results(cell('a→b/t/s/one', 'passed'), cell('a→b/t/s/two', 'not_run')), incomplete: { reason: 'interrupted by SIGTERM', notRun: 1 } };
    const diff = compareResults(old, now);
    expect(diff.newlyFailing).toEqual([]);
    expect(gateExitCode(diff, now)).toBe(1);
    expect(renderDiff(diff, now)).toMatch(/INCOMPLETE \(interrupted by SIGTERM\)[\s\S]*not run \(1\):\n {2}a→b\/t\/s\/two/);
  });
});
