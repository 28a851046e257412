import { parseMatrix } from '../src/config.js';
import { ConfigError } from '../src/config.js';
import { groupByServer, planCells } from '../src/plan.js';

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
