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
});
