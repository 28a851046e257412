import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../ts-common/src/paths.js';
import { ConfigError, parseMatrix } from '../src/config.js';

const MINIMAL = `implementations:
  ts:
    language: typescript
    library: grpc-js
    server: [node, s.js]
    client: [node, c.js]
suites:
  seeds:
    cases: [greeter_say_hello]
transports:
  insecure: {}
`;

function errorOf(text: string): string {
  try {
    parseMatrix(text, 'matrix.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('matrix.yaml', () => {
  it('the repository matrix.yaml is valid: 17 seeds cases, 18 grpc.testing cases, 3 transports', () => {
    const file = join(repoRoot(), 'matrix.yaml');
    const m = parseMatrix(readFileSync(file, 'utf8'), file);
    expect(m.suites.seeds?.cases).toHaveLength(17);
    expect(m.suites.seeds?.cases.find((c) => c.name === 'server_info_version')?.runnerChecks).toEqual(['server_version']);
    expect(m.suites['grpc.testing']?.cases).toHaveLength(18);
    expect(Object.keys(m.transports)).toEqual(['insecure', 'tls', 'mtls']);
    // gob is Go's own encoding: only the Go client runs those netrpc cases.
    expect(m.suites.netrpc?.cases.filter((c) => c.clients).map((c) => [c.name, c.clients])).toEqual([
      ['netrpc_gob_getinfo', ['go']],
      ['netrpc_gob_unknown_method', ['go']],
    ]);
    const defaults = Object.keys(m.implementations).filter((n) => m.releases[n]?.isDefault);
    expect(defaults).toEqual(['ts', 'python', 'go', 'cpp', 'upstream-go', 'raw', 'grpcurl', 'grpc-health-probe', 'h2spec', 'netrpc']);
    // At least three releases of each library (the default first), each other one NAME@VERSION.
    for (const base of ['ts', 'python', 'go']) {
      expect(Object.keys(m.implementations).filter((n) => m.releases[n]?.base === base).length).toBeGreaterThanOrEqual(3);
    }
  });

  it('a minimal file parses, with defaults', () => {
    const m = parseMatrix(MINIMAL, 'matrix.yaml');
    expect(m.implementations.ts?.batch).toBe(false);
    expect(m.suites.seeds?.cases).toEqual([{ suite: 'seeds', name: 'greeter_say_hello', serverArgs: [], runnerChecks: [] }]);
  });

  it.each<[string, string, RegExp]>([
    ['YAML syntax', MINIMAL.replace('cases: [greeter_say_hello]', 'cases: [greeter_say_hello'), /^matrix\.yaml:\d+: YAML syntax error/],
    ['unknown key', MINIMAL.replace('    library: grpc-js', '    library: grpc-js\n    colour: blue'), /^matrix\.yaml:5: implementations\.ts\.colour: unknown key "colour"/],
    ['wrong type', MINIMAL.replace('server: [node, s.js]', 'server: node s.js'), /^matrix\.yaml:5: implementations\.ts\.server: /],
    ['missing section', MINIMAL.replace(/transports:\n {2}insecure: \{\}\n/, ''), /^matrix\.yaml(:\d+)?: transports: /],
    ['duplicate key', MINIMAL.replace('  seeds:', '  seeds:\n    cases: [a]\n  seeds:'), /YAML syntax error.*[Mm]ap keys must be unique/],
    ['duplicate case', MINIMAL.replace('cases: [greeter_say_hello]', 'cases: [greeter_say_hello, greeter_say_hello]'), /^matrix\.yaml:9: suites\.seeds\.cases\[1\]: duplicate case "greeter_say_hello"/],
    ['unknown build dependency', MINIMAL.replace('    server: [node, s.js]', '    build: {command: [make], inputs: [src], after: [rust]}\n    server: [node, s.js]'), /implementations\.ts\.build\.after\[0\]: unknown implementation "rust"/],
    ['neither server nor client', MINIMAL.replace('    server: [node, s.js]\n    client: [node, c.js]\n', ''), /^matrix\.yaml:2: implementations\.ts: needs a server, a client, or both/],
    ['bad implementation name', MINIMAL.replace('  ts:', '  TS Peer:'), /^matrix\.yaml:2: implementations\.TS Peer: bad name: use lower-case letters/],
    ['empty command', MINIMAL.replace('server: [node, s.js]', 'server: []'), /^matrix\.yaml:5: implementations\.ts\.server: /],
    ['unknown transport in a suite', MINIMAL.replace('    cases: [greeter_say_hello]', '    cases: [greeter_say_hello]\n    transports: [quic]'), /^matrix\.yaml:10: suites\.seeds\.transports\[0\]: unknown transport "quic"/],
    ['bad enum value', MINIMAL.replace('    library: grpc-js', '    library: grpc-js\n    listening: stdout'), /^matrix\.yaml:5: implementations\.ts\.listening: /],
    ['unknown runner check', MINIMAL.replace('cases: [greeter_say_hello]', 'cases: [{name: greeter_say_hello, runner_checks: [server_versoin]}]'), /^matrix\.yaml:9: suites\.seeds\.cases\[0\].runner_checks\[0\]: Invalid input: expected "server_version"/],
  ])('%s is reported with file, line and field', (_kind, text, expected) => {
    expect(errorOf(text)).toMatch(expected);
  });

  it('an alias bomb is a one-line error naming the line of an alias, not a ReferenceError', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [prev, next] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g']] as const) {
      levels.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const text = `${MINIMAL}bomb:\n${levels.map((l) => `  ${l}\n`).join('')}`;
    const message = errorOf(text);
    expect(message).toMatch(/^matrix\.yaml:\d+: YAML: too many aliases \([^\n]*\)$/);
    const line = Number(/^matrix\.yaml:(\d+):/.exec(message)![1]);
    expect(text.split('\n')[line - 1]).toMatch(/\*[a-g]\b/);
  });

  it("yaml's own alias limit, counted differently, is a one-line error naming an alias too", () => {
    // 21 aliases in all, but yaml multiplies: each *y stands for the 11 uses of &t so far.
    const lines = ['x:', '  t: &t 1', ...Array.from({ length: 10 }, (_, i) => `  t${i}: *t`), '  y: &y [*t]', ...Array.from({ length: 10 }, (_, i) => `  y${i}: *y`)];
    const text = `${MINIMAL}${lines.join('\n')}\n`;
    const message = errorOf(text);
    expect(message).toMatch(/^matrix\.yaml:\d+: YAML: too many aliases \([^\n]*\)$/);
    expect(text.split('\n')[Number(/^matrix\.yaml:(\d+):/.exec(message)![1]) - 1]).toMatch(/\*[ty]\b/);
  });

  it('an alias without its anchor, or inside what it refers to, is a one-line error at its line', () => {
    expect(errorOf(`${MINIMAL}x: *nowhere\n`)).toBe('matrix.yaml:12: YAML: unknown alias *nowhere (its anchor &nowhere must come before it)');
    expect(errorOf(`${MINIMAL}x: &loop [1, *loop]\n`)).toBe('matrix.yaml:12: YAML: alias *loop is inside the value it refers to');
  });

  it('a few aliases (as the repository file has) are fine', () => {
    const text = MINIMAL.replace('  insecure: {}\n', '  insecure: &plain {server_args: [--use_tls=false]}\n  plain: *plain\n  again: *plain\n');
    expect(Object.keys(parseMatrix(text, 'matrix.yaml').transports)).toEqual(['insecure', 'plain', 'again']);
  });

  // A cell id is client→server/transport/suite/case, batch clients get --test_case=a,b,c, and
  // known_failures patterns use *, ** and {a,b}: names holding any of these would be ambiguous.
  it.each(['greeter/say_hello', 'greeter→go', 'a,b', 'greeter say_hello', 'tab\there', 'greeter_*', 'greeter_{a', 'greeter_}'])('case name %j is rejected with file, line and field', (name) => {
    const text = MINIMAL.replace('cases: [greeter_say_hello]', `cases:\n      - greeter_say_hello\n      - ${JSON.stringify(name)}`);
    expect(errorOf(text)).toMatch(new RegExp(`^matrix\\.yaml:11: suites\\.seeds\\.cases\\[1\\]: bad case name ${JSON.stringify(name).replace(/[\\{}*]/g, (c) => `\\${c}`)}: `));
  });

  it("a case's clients must be clients of its suite, at their line", () => {
    const unknown = MINIMAL.replace('cases: [greeter_say_hello]', 'cases:\n      - name: only_some\n        clients: [nope]');
    expect(errorOf(unknown)).toMatch(/^matrix\.yaml:11: suites\.seeds\.cases\[0\]\.clients\[0\]: unknown client "nope"/);
    const outside = MINIMAL.replace('  seeds:\n', '  seeds:\n    clients: [ts]\n')
      .replace('    client: [node, c.js]\n', '    client: [node, c.js]\n  py:\n    language: python\n    library: grpcio\n    client: [python3, c.py]\n')
      .replace('cases: [greeter_say_hello]', 'cases:\n      - name: only_some\n        clients: [py]');
    expect(errorOf(outside)).toMatch(/^matrix\.yaml:\d+: suites\.seeds\.cases\[0\]\.clients\[0\]: "py" is not one of the suite's clients \(ts\)$/);
  });

  it('a case name in the object form is checked too', () => {
    const text = MINIMAL.replace('cases: [greeter_say_hello]', 'cases:\n      - name: "a,b"\n        server_args: [--workers=4]');
    expect(errorOf(text)).toMatch(/^matrix\.yaml:10: suites\.seeds\.cases\[0\]\.name: bad case name "a,b": /);
  });

  it.each(['seeds/more', 'seeds→x', 'a,b', 'two words', 'seeds*', '{seeds}'])('suite name %j is rejected with file, line and field', (name) => {
    const text = MINIMAL.replace('  seeds:', `  ${JSON.stringify(name)}:`);
    expect(errorOf(text)).toMatch(/^matrix\.yaml:8: suites\..*: bad name: /);
  });

  it('every suite and case name of the repository matrix.yaml passes the name rules', () => {
    const file = join(repoRoot(), 'matrix.yaml');
    const m = parseMatrix(readFileSync(file, 'utf8'), file);
    expect(Object.keys(m.suites)).toEqual(['seeds', 'grpc.testing', 'testing-edges', 'errors', 'metadata', 'values', 'limits', 'compression', 'deadlines', 'lifecycle', 'large', 'tls-names', 'protocol', 'addressing', 'discovery', 'grpcurl', 'health-probe', 'security', 'netrpc', 'http2']);
    const names = MINIMAL.replace('  seeds:\n    cases: [greeter_say_hello]', '  grpc.testing-2_b:\n    cases: [a.b, c-d_e, X9]');
    expect(parseMatrix(names, 'matrix.yaml').suites['grpc.testing-2_b']?.cases.map((c) => c.name)).toEqual(['a.b', 'c-d_e', 'X9']);
  });
});

describe('data suites (cases_dir)', () => {
  const withSuite = (suite: string, file = join(repoRoot(), 'matrix.yaml')) => {
    const text = MINIMAL.replace('  seeds:\n    cases: [greeter_say_hello]\n', suite);
    try {
      return parseMatrix(text, file);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
  };

  it('the repository data suites load: every case file is valid', () => {
    const file = join(repoRoot(), 'matrix.yaml');
    const m = parseMatrix(readFileSync(file, 'utf8'), file);
    for (const suite of ['errors', 'metadata', 'values']) {
      expect(m.suites[suite]?.casesDir).toBe(`cases/${suite}`);
      expect(m.suites[suite]?.cases.length).toBeGreaterThan(20);
      expect(m.suites[suite]?.cases.every((c) => c.scripted?.instruction.requests.length)).toBe(true);
    }
  });

  it('a suite needs cases or cases_dir, one of them', () => {
    expect(withSuite('  both:\n    cases: [a]\n    cases_dir: cases/errors\n')).toMatch(/^.*matrix\.yaml:\d+: suites\.both: give either cases .* or cases_dir/);
    expect(withSuite('  neither:\n    description: x\n')).toMatch(/suites\.neither: give either cases/);
  });

  it('a missing folder, or a bad case file in it, is a one-line error naming the file', () => {
    expect(withSuite('  data:\n    cases_dir: cases/no-such-folder\n')).toBe('cases/no-such-folder: cannot read the case folder: ENOENT');
    const dir = mkdtempSync(join(tmpdir(), 'cases-dir-'));
    mkdirSync(join(dir, 'bad'));
    writeFileSync(join(dir, 'bad', 'one.yaml'), 'description: d\nmethod: Unary\nscript: {code: x}\ncaught_by: [scripted-read-all]\n');
    expect(withSuite(`  data:\n    cases_dir: ${join(dir, 'bad')}\n`)).toMatch(/bad\/one\.yaml:3: script: /);
  });

  it('a case name used by two data suites is an error naming both (the cases file is keyed by name)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cases-dup-'));
    for (const suite of ['a', 'b']) {
      mkdirSync(join(dir, suite));
      writeFileSync(join(dir, suite, 'same.yaml'), 'description: d\nmethod: Unary\nscript: {}\ncaught_by: [scripted-read-all]\n');
    }
    expect(withSuite(`  a:\n    cases_dir: ${join(dir, 'a')}\n  b:\n    cases_dir: ${join(dir, 'b')}\n`)).toMatch(/b\/same\.yaml: the case name "same" is also a case of the data suite a: /);
  });
});

describe('flaky entries', () => {
  it('may ask for more retries (1 to 10); known_failures may not', () => {
    const withFlaky = (entry: string) => `${MINIMAL}flaky:\n  - ${entry}\n`;
    const m = parseMatrix(withFlaky('{cell: "ts→ts/insecure/seeds/greeter_say_hello", reason: r, retries: 6}'), 'matrix.yaml');
    expect(m.flaky[0]?.retries).toBe(6);
    expect(errorOf(withFlaky('{cell: "ts→ts/insecure/seeds/greeter_say_hello", reason: r, retries: 0}'))).toMatch(/^matrix\.yaml:\d+: flaky\[0\]\.retries: /);
    expect(errorOf(`${MINIMAL}known_failures:\n  - {cell: "ts→ts/insecure/seeds/greeter_say_hello", reason: r, retries: 3}\n`)).toMatch(/known_failures\[0\]\.retries: unknown key "retries"/);
  });
});

describe('networks in matrix.yaml', () => {
  const TOOLS = `tools:
  toxiproxy: {command: [toxiproxy-server]}
network_proxy: toxiproxy
`;
  const net = (body: string) => `${MINIMAL}${TOOLS}networks:\n  latency:\n${body}`;
  const OK = '    toxics: [{type: latency, attributes: {latency: 50}}]\n    cases: {seeds: [greeter_say_hello]}\n';

  it('a network parses; its cells are TRANSPORT~NETWORK only with --networks, direct staying the default', async () => {
    const m = parseMatrix(net(OK), 'matrix.yaml');
    expect(m.networks['latency']?.toxics).toEqual([{ type: 'latency', toxicity: 1, attributes: { latency: 50 } }]);
    const { planCells } = await import('../src/plan.js');
    expect(planCells(m).map((c) => c.id)).toEqual(['ts→ts/insecure/seeds/greeter_say_hello']);
    expect(planCells(m, { networks: ['direct', 'latency'] }).map((c) => c.id)).toEqual(['ts→ts/insecure/seeds/greeter_say_hello', 'ts→ts/insecure~latency/seeds/greeter_say_hello']);
  });

  it.each([
    [net('    toxics: [{type: latency}]\n    cases: {nope: [greeter_say_hello]}\n'), /networks\.latency\.cases\.nope.*unknown suite "nope"/],
    [net('    toxics: [{type: latency}]\n    cases: {seeds: [nope]}\n'), /^matrix\.yaml:\d+: networks\.latency\.cases\.seeds\[0\]: unknown case "nope" of suite seeds/],
    [net('    toxics: [{type: latency}]\n    transports: [quic]\n    cases: {seeds: [greeter_say_hello]}\n'), /^matrix\.yaml:\d+: networks\.latency\.transports\[0\]: unknown transport "quic"/],
    [net('    toxics: [{type: netem}]\n    cases: {seeds: [greeter_say_hello]}\n'), /^matrix\.yaml:\d+: networks\.latency\.toxics\[0\]\.type: Invalid option: expected one of \"latency\"/],
    [`${MINIMAL}networks:\n  latency:\n${OK}`, /networks.*networks need network_proxy/],
    [`${MINIMAL}${TOOLS}networks:\n  direct:\n${OK}`, /"direct" is the network without a proxy/],
    [`${MINIMAL}network_proxy: toxiproxy\n`, /network_proxy.*unknown tool "toxiproxy"/],
    [net('    toxics: [{type: limit_data, attributes: {bytes: 1}}]\n    cases: {seeds: [greeter_say_hello]}\n    expect: {codes: [14], reason: cut}\n'), /^matrix\.yaml:\d+: networks\.latency\.cases\.seeds: a network with expect judges data-suite cases only; seeds is not a data suite/],
    [net('    toxics: [{type: limit_data}]\n    cases: {seeds: [greeter_say_hello]}\n    expect: {codes: [], reason: cut}\n'), /networks\.latency\.expect\.codes: /],
  ])('a mistake in a network is a clear error (%#)', (text, message) => {
    expect(errorOf(text)).toMatch(message);
  });
});
