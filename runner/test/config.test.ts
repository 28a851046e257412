import { readFileSync } from 'node:fs';
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
  it('the repository matrix.yaml is valid: 13 seeds cases, 18 grpc.testing cases, 3 transports', () => {
    const file = join(repoRoot(), 'matrix.yaml');
    const m = parseMatrix(readFileSync(file, 'utf8'), file);
    expect(m.suites.seeds?.cases).toHaveLength(13);
    expect(m.suites['grpc.testing']?.cases).toHaveLength(18);
    expect(Object.keys(m.transports)).toEqual(['insecure', 'tls', 'mtls']);
    expect(Object.keys(m.implementations)).toEqual(['ts', 'python', 'go', 'upstream-go']);
  });

  it('a minimal file parses, with defaults', () => {
    const m = parseMatrix(MINIMAL, 'matrix.yaml');
    expect(m.implementations.ts?.batch).toBe(false);
    expect(m.suites.seeds?.cases).toEqual([{ suite: 'seeds', name: 'greeter_say_hello', serverArgs: [] }]);
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
  ])('%s is reported with file, line and field', (_kind, text, expected) => {
    expect(errorOf(text)).toMatch(expected);
  });
});
