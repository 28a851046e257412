import { compareResults, isRegression, renderDiff } from '../src/compare.js';
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
    expect(renderDiff(compareResults(before, before))).toBe('no change against the baseline\n');
  });
});
