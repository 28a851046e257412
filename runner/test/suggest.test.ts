import type { CellResult, CellStatus, Results } from '../src/results.js';
import { minimalPatterns, renderKnownFailures } from '../src/suggest.js';

const cell = (client: string, server: string, transport: string, name: string, status: CellStatus): CellResult => ({
  id: `${client}→${server}/${transport}/s/${name}`, client, server, transport, suite: 's', case: name, status, durationMs: 1, attempts: 1,
});

describe('known-failures suggestion', () => {
  const cells: CellResult[] = [];
  for (const client of ['a', 'b']) for (const server of ['a', 'b']) for (const t of ['t1', 't2']) {
    cells.push(cell(client, server, t, 'one', server === 'b' ? 'failed' : 'passed')); // fails against server b, any client, any transport
    cells.push(cell(client, server, t, 'two', client === 'a' && server === 'a' && t === 't1' ? 'failed' : 'passed')); // one cell
  }
  const results: Results = { schema: 1, startedAt: '', durationMs: 0, implementations: {}, cells };

  it('covers every failing cell with as few patterns as it can, and no passing cell', () => {
    expect(minimalPatterns(results)).toEqual([
      { cell: 'a→a/t1/s/two', matches: 1 },
      { cell: '*→b/*/s/one', matches: 4 },
    ]);
  });

  it('prints a known_failures block to paste, with reasons to fill in', () => {
    expect(renderKnownFailures(results)).toMatch(/- cell: "\*→b\/\*\/s\/one"\n {4}reason: "TODO: why this fails \(4 cells\)"/);
    expect(renderKnownFailures({ ...results, cells: cells.filter((c) => c.status === 'passed') })).toBe('# no failing cell: nothing to list\n');
  });
});
