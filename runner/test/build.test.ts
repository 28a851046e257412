import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOrder, checkToolchains, ensureBuilt, inputHash } from '../src/build.js';
import { ConfigError, parseMatrix } from '../src/config.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'build-test-'));
  mkdirSync(join(root, 'src/gen'), { recursive: true });
  writeFileSync(join(root, 'src/a.txt'), 'a');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const matrixWith = (build: string, requires = '[]') =>
  parseMatrix(
    `implementations:
  p: {language: x, library: x, server: [s], requires: ${requires}, build: ${build}}
  q: {language: x, library: x, server: [s], build: {command: [touch, q.out], inputs: [src], outputs: [q.out], after: [p]}}
suites: {s: {cases: [c]}}
transports: {t: {}}
`,
    'm.yaml',
  );

describe('build', () => {
  it('hashes input content but not excluded (generated) paths', () => {
    const build = { command: ['x'], inputs: ['src'], exclude: ['src/gen'], outputs: [], after: [] };
    const before = inputHash(root, build);
    writeFileSync(join(root, 'src/gen/out.txt'), 'generated');
    expect(inputHash(root, build)).toBe(before);
    writeFileSync(join(root, 'src/a.txt'), 'b');
    expect(inputHash(root, build)).not.toBe(before);
  });

  it('builds when stale, skips when fresh, rebuilds when an output is missing', async () => {
    const m = matrixWith('{command: [sh, -c, "echo x >> p.out"], inputs: [src], outputs: [p.out]}');
    const opts = { root, logDir: join(root, 'logs') };
    expect((await ensureBuilt(m, ['p'], opts)).get('p')?.status).toBe('built');
    expect((await ensureBuilt(m, ['p'], opts)).get('p')?.status).toBe('fresh');
    writeFileSync(join(root, 'src/a.txt'), 'changed');
    expect((await ensureBuilt(m, ['p'], opts)).get('p')?.status).toBe('built');
    rmSync(join(root, 'p.out'));
    expect((await ensureBuilt(m, ['p'], opts)).get('p')?.status).toBe('built');
  });

  it('a failed build fails its dependents, with the log', async () => {
    const m = matrixWith('{command: [sh, -c, "echo broken >&2; exit 3"], inputs: [src]}');
    const outcomes = await ensureBuilt(m, ['q'], { root, logDir: join(root, 'logs') });
    expect(outcomes.get('p')).toMatchObject({ status: 'failed', error: expect.stringMatching(/exit code 3/) });
    expect(outcomes.get('q')).toMatchObject({ status: 'failed', error: expect.stringMatching(/dependency "p"/) });
  });

  it('orders dependencies first', () => {
    expect(buildOrder(matrixWith('{command: [x], inputs: [src]}'), ['q'])).toEqual(['p', 'q']);
  });

  it('a missing toolchain names what to install and offers Docker', () => {
    const m = matrixWith('{command: [x], inputs: [src]}', '[{command: no-such-tool-xyz, install: "the xyz toolchain"}]');
    expect(() => checkToolchains(m, ['p'])).toThrow(ConfigError);
    expect(() => checkToolchains(m, ['p'])).toThrow(/no-such-tool-xyz \(needed by "p"\): the xyz toolchain[\s\S]*--launcher docker/);
  });

  it('builds independent implementations side by side, and a dependent only after its dependency', async () => {
    // a and b each wait (10 s at most) until the other has started: run one after the other, the
    // first would give up and fail. c needs a's output.
    const waitFor = (me: string, other: string) => `[sh, -c, "touch ${me}.started; i=0; while [ ! -e ${other}.started ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; [ -e ${other}.started ] && touch ${me}.out"]`;
    const m = parseMatrix(
      `implementations:
  a: {language: x, library: x, server: [s], build: {command: ${waitFor('a', 'b')}, inputs: [src], outputs: [a.out]}}
  b: {language: x, library: x, server: [s], build: {command: ${waitFor('b', 'a')}, inputs: [src], outputs: [b.out]}}
  c: {language: x, library: x, server: [s], build: {command: [sh, -c, "test -e a.out && touch c.out"], inputs: [src], outputs: [c.out], after: [a]}}
suites: {s: {cases: [c]}}
transports: {t: {}}
`,
      'm.yaml',
    );
    const outcomes = await ensureBuilt(m, ['c', 'b'], { root, logDir: join(root, 'logs') });
    expect([...outcomes].map(([name, o]) => [name, o.status])).toEqual([
      ['a', 'built'],
      ['c', 'built'],
      ['b', 'built'],
    ]);
  }, 30_000);
});
