import { parseMatrix } from '../src/config.js';
import { ConfigError } from '../src/config.js';
import { checkPatterns, groupByServer, parseShard, planCells, shardCells } from '../src/plan.js';
import { globToRegExp } from '../src/results.js';

const matrix = parseMatrix(
  `implementations:
  a: {language: x, library: x, server: [s], client: [c]}
  b: {language: y, library: y, server: [s]}
suites:
  seeds:
    cases:
      - one
      - name: two
        server_args: ["--workers=4"]
transports:
  insecure: {}
`,
  'm.yaml',
);

const restricted = parseMatrix(
  `implementations:
  a: {language: x, library: x, server: [s], client: [c]}
  b: {language: y, library: y, server: [s], client: [c]}
suites:
  only-a-on-t2:
    transports: [t2]
    clients: [a]
    servers: [b]
    cases: [one]
transports:
  t1: {}
  t2: {}
`,
  'm.yaml',
);

describe('plan', () => {
  it('a suite runs only on its transports, clients and servers', () => {
    expect(planCells(restricted).map((c) => c.id)).toEqual(['a→b/t2/only-a-on-t2/one']);
  });

  it('expands client × server × transport × case into cell ids', () => {
    expect(planCells(matrix).map((c) => c.id)).toEqual([
      'a→a/insecure/seeds/one',
      'a→b/insecure/seeds/one',
      'a→a/insecure/seeds/two',
      'a→b/insecure/seeds/two',
    ]);
  });

  it('filters by --grep on the cell id', () => {
    expect(planCells(matrix, { grep: /→b\/.*two$/ }).map((c) => c.id)).toEqual(['a→b/insecure/seeds/two']);
  });

  it('rejects an unknown name, listing what exists', () => {
    expect(() => planCells(matrix, { servers: ['c'] })).toThrow(ConfigError);
    expect(() => planCells(matrix, { clients: ['b'] })).toThrow(/unknown client "b"; available: a/);
  });

  it('gives cases with their own server flags a server of their own', () => {
    const groups = groupByServer(matrix, planCells(matrix));
    expect(groups.map((g) => [g.id, g.serverArgs, g.pairings.map((p) => p.cells.length)])).toEqual([
      ['a/insecure', [], [1]],
      ['b/insecure', [], [1]],
      ['a/insecure/workers=4', ['--workers=4'], [1]],
      ['b/insecure/workers=4', ['--workers=4'], [1]],
    ]);
  });
});

describe('known_failures and flaky patterns', () => {
  const withPatterns = (known: string, flaky: string) =>
    parseMatrix(
      `implementations:\n  a: {language: x, library: x, server: [s], client: [c]}\nsuites:\n  s: {cases: [one]}\ntransports:\n  t: {}\nknown_failures:\n  - {cell: "${known}", reason: r}\nflaky:\n  - {cell: "${flaky}", reason: r}\n`,
      'm.yaml',
    );

  it('accept patterns that match a cell', () => {
    expect(() => checkPatterns(withPatterns('a→a/t/s/one', '*→*/*/*/*'), globToRegExp)).not.toThrow();
  });

  it('reject a pattern naming something that does not exist, at its line', () => {
    expect(() => withPatterns('a→a/t/s/oen', '*→*/*/*/*')).toThrow(/^m\.yaml:8: known_failures\[0\]\.cell: unknown case "oen" in "a→a\/t\/s\/oen"; known: one$/);
    expect(() => withPatterns('a→a/t/s/one', '{a,b}→*/*/*/*')).toThrow(/^m\.yaml:10: flaky\[0\]\.cell: unknown client "b"/);
  });

  it('reject a pattern that matches no cell, naming it and its line', () => {
    expect(() => checkPatterns(withPatterns('a→a/t/s/x*', 'a→*/t/s/one'), globToRegExp)).toThrow(/^m\.yaml:8: known_failures\[0\]\.cell: the pattern "a→a\/t\/s\/x\*" matches no cell$/);
    expect(() => checkPatterns(withPatterns('a→a/t/s/one', 'b→*/**'), globToRegExp)).toThrow(/^m\.yaml:10: flaky\[0\]\.cell: the pattern "b→\*\/\*\*" matches no cell$/);
  });
});

describe('--shard', () => {
  const cells = planCells(restricted).concat(planCells(matrix));

  it('splits the sorted plan into disjoint slices that together are the whole plan', () => {
    for (const n of [1, 2, 3, 5, 7]) {
      const parts = Array.from({ length: n }, (_, i) => shardCells(cells, { index: i + 1, count: n }).map((c) => c.id));
      expect(parts.flat().sort()).toEqual(cells.map((c) => c.id).sort());
      expect(new Set(parts.flat()).size).toBe(cells.length);
      expect(Math.max(...parts.map((p) => p.length)) - Math.min(...parts.map((p) => p.length))).toBeLessThanOrEqual(1);
    }
  });

  it('is the same whatever order the plan came in', () => {
    expect(shardCells([...cells].reverse(), { index: 2, count: 3 }).map((c) => c.id).sort()).toEqual(shardCells(cells, { index: 2, count: 3 }).map((c) => c.id).sort());
  });

  it('rejects a malformed shard', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/3', '4/3', '1/0', '1', 'a/b', '1/3/2']) expect(() => parseShard(bad)).toThrow(/expected i\/n/);
  });
});
