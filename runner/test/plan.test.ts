import { join } from 'node:path';
import { repoRoot } from '../../ts-common/src/paths.js';
import { loadMatrix, parseMatrix } from '../src/config.js';
import { ConfigError } from '../src/config.js';
import { checkPatterns, groupByServer, parseShard, planCells, shardCells } from '../src/plan.js';
import { parseDocument, type YAMLSeq } from 'yaml';
import { patternMatches } from '../src/patterns.js';
import { withVersion } from '../src/versions.js';
import { declaredWaitMs } from '../src/scripted/cases.js';

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

  it('a case with clients: runs only with those of the suite\'s clients (any release of them)', () => {
    const m = parseMatrix(
      `implementations:
  a: {language: x, library: x, server: [s], client: [c], versions: ["2.0.0", "1.0.0"], other_versions: {client: [c1]}}
  b: {language: y, library: y, server: [s], client: [c]}
suites:
  rpc:
    servers: [b]
    cases:
      - both
      - name: only-a
        clients: [a]
transports:
  t: {}
`,
      'm.yaml',
    );
    expect(planCells(m).map((c) => c.id)).toEqual(['a→b/t/rpc/both', 'a@1.0.0→b/t/rpc/both', 'b→b/t/rpc/both', 'a→b/t/rpc/only-a', 'a@1.0.0→b/t/rpc/only-a']);
  });

  it('expands client × server × transport × case into cell ids', () => {
    expect(planCells(matrix).map((c) => c.id)).toEqual([
      'a→a/insecure/seeds/one',
      'a→b/insecure/seeds/one',
      'a→a/insecure/seeds/two',
      'a→b/insecure/seeds/two',
    ]);
  });

  /** A quick suite and an opt-in one; `extra` adds top-level sections. */
  const withOptIn = (extra = '') =>
    parseMatrix(
      `implementations:
  a: {language: x, library: x, server: [s], client: [c]}
suites:
  quick: {cases: [one]}
  slow: {cases: [big], opt_in: true}
transports:
  insecure: {}
${extra}`,
      'm.yaml',
    );

  it('a known-failure pattern may name an opt-in suite or a network: neither is stale', () => {
    const m = withOptIn(`tools:
  toxiproxy: {command: [toxiproxy-server]}
network_proxy: toxiproxy
networks:
  lossy: {toxics: [{type: latency}], cases: {quick: [one]}}
known_failures:
  - {cell: "a→a/insecure/slow/big", reason: r}
  - {cell: "a→a/insecure~lossy/quick/one", reason: r}
`);
    expect(() => checkPatterns(m)).not.toThrow();
  });

  it('an opt_in suite runs only when --suites names it', () => {
    const slow = withOptIn();
    expect(planCells(slow).map((c) => c.id)).toEqual(['a→a/insecure/quick/one']);
    expect(planCells(slow, { suites: ['slow'] }).map((c) => c.id)).toEqual(['a→a/insecure/slow/big']);
    expect(planCells(slow, { suites: ['quick', 'slow'] })).toHaveLength(2);
  });

  it('filters by --grep on the cell id', () => {
    expect(planCells(matrix, { grep: /→b\/.*two$/ }).map((c) => c.id)).toEqual(['a→b/insecure/seeds/two']);
  });

  it('rejects an unknown name, listing what exists', () => {
    expect(() => planCells(matrix, { servers: ['c'] })).toThrow(ConfigError);
    expect(() => planCells(matrix, { clients: ['b'] })).toThrow(/unknown client "b"; available: a/);
  });

  it('the raw peer (raw: true) meets only its cases: a raw_response case as the server of a library client, a raw_request case as the client of a library server', () => {
    const repo = loadMatrix(join(repoRoot(), 'matrix.yaml'));
    const cells = planCells(repo, { versions: 'default', suites: ['protocol', 'grpc.testing'], transports: ['insecure'] });
    const side = (suite: string, name: string) => repo.suites[suite]!.cases.find((c) => c.name === name)!.scripted?.raw;
    const pairs = new Set(cells.map((c) => `${side(c.suite, c.case) ?? 'none'}: ${c.client}→${c.server}`));
    expect([...pairs].sort()).toEqual(
      ['client: raw→cpp', 'client: raw→go', 'client: raw→python', 'client: raw→ts', 'server: cpp→raw', 'server: go→raw', 'server: python→raw', 'server: ts→raw', 'none: go→go', 'none: go→python', 'none: go→ts', 'none: go→upstream-go']
        .concat(['none: python→go', 'none: python→python', 'none: python→ts', 'none: python→upstream-go', 'none: ts→go', 'none: ts→python', 'none: ts→ts', 'none: ts→upstream-go'])
        .concat(['none: upstream-go→go', 'none: upstream-go→python', 'none: upstream-go→ts', 'none: upstream-go→upstream-go'])
        // the C++ peer in grpc.testing and protocol, both roles
        .concat(['none: cpp→cpp', 'none: cpp→go', 'none: cpp→python', 'none: cpp→ts', 'none: cpp→upstream-go', 'none: go→cpp', 'none: python→cpp', 'none: ts→cpp', 'none: upstream-go→cpp'])
        .sort(),
    );
    // The raw client's requests get a server of their own (the same flags), apart from every other cell of that server.
    const groups = groupByServer(repo, cells.filter((c) => c.server === 'go'));
    expect(groups.map((g) => g.id).sort()).toEqual(['go/insecure', 'go/insecure/raw-requests']);
    expect(groups.find((g) => g.id === 'go/insecure/raw-requests')).toMatchObject({ serverArgs: [], pairings: [{ client: 'raw' }] });
  });

  it('gives paced cases (mostly deliberate waiting) server groups of their own, marked to run beside the CPU-bound ones', () => {
    const repo = loadMatrix(join(repoRoot(), 'matrix.yaml'));
    const paced = (name: string) => repo.suites['deadlines']!.cases.find((c) => c.name === name)!.scripted!.paced;
    expect(paced('deadline_server_stream_observed')).toBe(true); // 40 replies 50 ms apart, a 600 ms deadline
    expect(paced('deadline_30_days')).toBe(false);
    const cells = planCells(repo, { versions: 'default', suites: ['deadlines'], transports: ['insecure'], servers: ['go'] });
    const groups = groupByServer(repo, cells);
    expect(groups.map((g) => [g.id, g.paced === true]).sort()).toEqual([['go/insecure', false], ['go/insecure/paced', true]]);
    const inPaced = new Set(groups.find((g) => g.paced)!.pairings.flatMap((p) => p.cells.map((c) => c.case)));
    expect(inPaced.has('deadline_server_stream_observed')).toBe(true);
    expect(inPaced.has('deadline_30_days')).toBe(false);
  });

  it('gives a suite with own_servers (h2spec\'s, which takes old grpc-js servers down) server groups of its own, apart from other paced cases', () => {
    const repo = loadMatrix(join(repoRoot(), 'matrix.yaml'));
    expect(repo.suites['http2']!.ownServers).toBe(true);
    const cells = planCells(repo, { versions: 'default', suites: ['http2', 'deadlines'], transports: ['insecure'], servers: ['go'] });
    const groups = groupByServer(repo, cells);
    expect(groups.map((g) => [g.id, g.paced === true]).sort()).toEqual([['go/insecure', false], ['go/insecure/http2,paced', true], ['go/insecure/paced', true]]);
    expect(groups.find((g) => g.id === 'go/insecure/http2,paced')!.pairings.map((p) => p.client)).toEqual(['h2spec']);
  });

  it('sums the waiting a case declares: delays, pauses, sleeps and a deadline it expects to pass', () => {
    const instruction = { method: 'ServerStream', metadata: [], requests: [{ script: { replies: [{ delay_ms: 50 }, { delay_ms: 50 }] } }], timeout_ms: 600, followups: [{ after_ms: 100, method: 'Unary', metadata: [], requests: [] }] };
    expect(declaredWaitMs(instruction as never, { status: { code: 4 } } as never)).toBe(800);
    expect(declaredWaitMs(instruction as never, { status: { code: 0 } } as never)).toBe(200);
    expect(declaredWaitMs(instruction as never, { status: { code: [4, 1] } } as never)).toBe(800);
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
    expect(() => checkPatterns(withPatterns('a→a/t/s/one', '*→*/*/*/*'))).not.toThrow();
  });

  it('reject a pattern naming something that does not exist, at its line', () => {
    expect(() => withPatterns('a→a/t/s/oen', '*→*/*/*/*')).toThrow(/^m\.yaml:8: known_failures\[0\]\.cell: unknown case "oen" in "a→a\/t\/s\/oen"; known: one$/);
    expect(() => withPatterns('a→a/t/s/one', '{a,b}→*/*/*/*')).toThrow(/^m\.yaml:10: flaky\[0\]\.cell: unknown client "b"/);
  });

  it('reject a pattern that matches no cell, naming it and its line', () => {
    expect(() => checkPatterns(withPatterns('a→a/t/s/x*', 'a→*/t/s/one'))).toThrow(/^m\.yaml:8: known_failures\[0\]\.cell: the pattern "a→a\/t\/s\/x\*" matches no cell$/);
    expect(() => checkPatterns(withPatterns('a→a/t/s/one', 'b→*/**'))).toThrow(/^m\.yaml:10: flaky\[0\]\.cell: the pattern "b→\*\/\*\*" matches no cell$/);
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

const versionedText = (): string => `implementations:
  a:
    language: x
    library: x
    server: [s]
    client: [c]
    versions: ["2.0.0", "1.5.0", "1.0.0"]
    other_versions:
      server: [s, "--v={version}"]
      client: [c, "{version}"]
      build: {command: [b, "{version}"], inputs: ["in/{version}"], outputs: ["out/{version}/bin"]}
  b: {language: y, library: y, server: [s], client: [c]}
suites:
  s:
    cases: [one]
transports:
  t: {}
known_failures:
  - cell: "a@<1.5.0→*/t/s/one"
    reason: old
`;

const versioned = parseMatrix(versionedText(), 'v.yaml');

describe('library releases (versions)', () => {
  const ids = (selection: Parameters<typeof planCells>[1] = {}) => planCells(versioned, selection).map((c) => c.id);

  it('each other release is an implementation NAME@VERSION with its own build and commands', () => {
    expect(versioned.implementations['a@1.5.0']).toMatchObject({ server: ['s', '--v=1.5.0'], client: ['c', '1.5.0'], build: { command: ['b', '1.5.0'], inputs: ['in/1.5.0'], outputs: ['out/1.5.0/bin'] }, self_test: false });
    expect(versioned.releases['a']).toEqual({ base: 'a', version: '2.0.0', isDefault: true });
    expect(versioned.releases['a@1.0.0']).toEqual({ base: 'a', version: '1.0.0', isDefault: false });
  });

  it('paired (default): old releases meet the default releases both ways, never each other', () => {
    const all = ids();
    expect(all).toContain('a@1.0.0→a/t/s/one');
    expect(all).toContain('a→a@1.0.0/t/s/one');
    expect(all).toContain('b→a@1.5.0/t/s/one');
    expect(all).toContain('a@1.5.0→b/t/s/one');
    expect(all).not.toContain('a@1.0.0→a@1.5.0/t/s/one');
    expect(all).toHaveLength(4 + 4 + 4); // default × default, old clients × default servers, default clients × old servers
    expect(ids({ versions: 'default' })).toEqual(['a→a/t/s/one', 'b→a/t/s/one', 'a→b/t/s/one', 'b→b/t/s/one']);
    expect(ids({ versions: 'all' })).toHaveLength(4 * 4);
  });

  it('--clients NAME is every release, NAME@VERSION one (the default release by its version too)', () => {
    expect(ids({ clients: ['a@1.0.0'], servers: ['b'] })).toEqual(['a@1.0.0→b/t/s/one']);
    expect(ids({ clients: ['a@2.0.0'], servers: ['b'] })).toEqual(['a→b/t/s/one']);
    expect(ids({ clients: ['a'], servers: ['b'] })).toEqual(['a→b/t/s/one', 'a@1.5.0→b/t/s/one', 'a@1.0.0→b/t/s/one']);
    expect(() => ids({ clients: ['a@9.9.9'] })).toThrow(/unknown client "a@9\.9\.9"; available: a, b \(or a release: a@2\.0\.0, a@1\.5\.0, a@1\.0\.0, b\)/);
  });

  it('a pattern side may name a semver range; without one it covers every release', () => {
    expect(patternMatches('a@<1.5.0→*/t/s/one', 'a@1.0.0→b/t/s/one', versioned.releases)).toBe(true);
    expect(patternMatches('a@<1.5.0→*/t/s/one', 'a@1.5.0→b/t/s/one', versioned.releases)).toBe(false);
    expect(patternMatches('a@<1.5.0→*/t/s/one', 'a→b/t/s/one', versioned.releases)).toBe(false);
    expect(patternMatches('a@2.x→*/t/s/one', 'a→b/t/s/one', versioned.releases)).toBe(true);
    expect(patternMatches('a→*/t/s/one', 'a@1.0.0→b/t/s/one', versioned.releases)).toBe(true);
    expect(patternMatches('*→a@1.5.0/**', 'b→a@1.5.0/t/s/one', versioned.releases)).toBe(true);
    expect(patternMatches('a→*/**', 'a@1.0.0→b/t/s/one', versioned.releases)).toBe(true);
    expect(() => checkPatterns(versioned)).not.toThrow();
  });

  it('a range no release satisfies is a stale entry; a malformed one is a config error', () => {
    const withCell = (cell: string) => () => checkPatterns(parseMatrix(`${versionedText().replace('a@<1.5.0→*/t/s/one', cell)}`, 'v.yaml'));
    expect(withCell('a@<0.9.0→*/t/s/one')).toThrow(/the pattern "a@<0\.9\.0→\*\/t\/s\/one" matches no cell/);
    expect(withCell('a@banana→*/t/s/one')).toThrow(/v\.yaml:\d+: known_failures\[0\]\.cell: "banana" is not a semver version or range/);
  });

  it('versions must be exact releases, and more than one needs other_versions', () => {
    expect(() => parseMatrix(versionedText().replace('"1.5.0"', '"1.5"'), 'v.yaml')).toThrow(/v\.yaml:\d+: implementations\.a\.versions\[1\]: a version is an exact semver release/);
    expect(() => parseMatrix(versionedText().replace(/    other_versions:[\s\S]*?outputs: \["out\/\{version\}\/bin"\]\}\n/, ''), 'v.yaml')).toThrow(/more than one version needs other_versions/);
  });
});

describe('matrix versions add: the versions list gets one more release, the rest of the file untouched', () => {
  const add = (text: string, version: string) => {
    const doc = parseDocument(text);
    return withVersion(text, doc.getIn(['implementations', 'a', 'versions']) as YAMLSeq, version);
  };
  it('a flow list', () => {
    const text = 'implementations:\n  a:\n    # releases\n    versions: ["2.0.0", "1.5.0"]   # newest first\n    other: >-\n      folded\n      text\n';
    expect(add(text, '1.0.0')).toBe(text.replace('"1.5.0"]', '"1.5.0", "1.0.0"]'));
  });
  it('a block list', () => {
    const text = 'implementations:\n  a:\n    versions:\n      - "2.0.0"\n      - 1.5.0\n    server: [s]\n';
    expect(add(text, '1.0.0')).toBe('implementations:\n  a:\n    versions:\n      - "2.0.0"\n      - 1.5.0\n      - "1.0.0"\n    server: [s]\n');
  });
});
