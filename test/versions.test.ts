/**
 * The version axis finds a version boundary: grpc-js 1.8.0's server sends trailers-only errors
 * without content-type (fixed by grpc/grpc-node#2305, first in 1.8.2), and grpc-go's client
 * turns them into UNKNOWN. With both 1.8.0 and 1.8.22 declared, the same seeds cells are red
 * against ts@1.8.0 and green against ts@1.8.22, and the run names the boundary. Needs the npm
 * registry the first time (scripts/ts-version.mjs installs grpc-js 1.8.0).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../ts-common/src/paths.js';
import type { Results } from '../runner/src/results.js';

const root = repoRoot();
const cli = join(root, 'build/ts/runner/src/cli.js');

describe('a version boundary (grpc-js 1.8.0 → 1.8.22, trailers-only errors without content-type)', () => {
  let results: Results;
  let output: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'matrix-versions-'));
    // The repository's matrix, with grpc-js 1.8.0 declared as one more release.
    const text = readFileSync(join(root, 'matrix.yaml'), 'utf8');
    const declared = text.replace(/versions: \["1\.14\.7", ([^\]]*)\]/, (_m, rest: string) => `versions: ["1.14.7", ${rest}, "1.8.0"]`);
    expect(declared).not.toBe(text);
    const config = join(dir, 'matrix.yaml');
    writeFileSync(config, declared);
    const run = await execa('node', [cli, '--config', config, '--clients', 'go', '--servers', 'ts@1.8.0,ts@1.8.22', '--suites', 'seeds', '--transports', 'insecure', '--out', join(dir, 'out')], {
      cwd: root,
      reject: false,
      all: true,
      env: { NO_COLOR: '1' },
    });
    output = run.all ?? '';
    results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results;
  }, 600_000);

  it('the same cells fail against 1.8.0 and pass against 1.8.22, for the reason of the change', () => {
    const red = results.cells.filter((c) => c.server === 'ts@1.8.0' && c.status === 'failed');
    expect(red.length).toBeGreaterThan(0);
    for (const cell of red) {
      expect(cell.error).toMatch(/content-type/);
      const twin = results.cells.find((c) => c.server === 'ts@1.8.22' && c.case === cell.case);
      expect(twin?.status).toBe('passed');
    }
    expect(results.implementations['ts@1.8.0']).toMatchObject({ version: '1.8.0', release: '1.8.0', base: 'ts' });
  });

  it('the run names the boundary and shows the compatibility table', () => {
    expect(output).toMatch(/version boundaries \(failures that pass with another release\):\n {2}grpc-js \(ts\) as server: fails with 1\.8\.0, passes with 1\.8\.22 — \d+ cells?, e\.g\. go→ts@1\.8\.0\/insecure\/seeds\//);
    expect(output).toMatch(/client ↓ {2}server → +ts 1\.8\.22 +ts 1\.8\.0/);
  });
});

describe('matrix versions add', () => {
  it('pins a release (the implementation\'s add command), declares it in the matrix file and builds it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'matrix-versions-add-'));
    const config = join(dir, 'matrix.yaml');
    const text = readFileSync(join(root, 'matrix.yaml'), 'utf8');
    writeFileSync(config, text);
    // ts-version.mjs --add refreshes the committed pins of 1.8.0: they are put back afterwards.
    const pins = ['package.json', 'package-lock.json'].map((f) => join(root, 'interop/ts-versions/1.8.0', f));
    const saved = pins.map((f) => readFileSync(f));
    try {
      const run = await execa('node', [cli, 'versions', 'add', 'ts', '1.8.0', '--config', config], { cwd: root, reject: false, all: true, timeout: 300_000 });
      expect(run.exitCode).toBe(0);
      expect(run.all).toMatch(/declared ts@1\.8\.0 in .*matrix\.yaml/);
      expect(run.all).toMatch(/ts@1\.8\.0 is built: run it with npm run matrix -- --clients ts@1\.8\.0/);
      // Only the versions list changed.
      expect(readFileSync(config, 'utf8')).toBe(text.replace('versions: ["1.14.7", "1.10.11", "1.8.22"]', 'versions: ["1.14.7", "1.10.11", "1.8.22", "1.8.0"]'));
      const listed = await execa('node', [cli, 'versions', '--config', config], { cwd: root });
      expect(listed.stdout).toMatch(/^ts \(grpc-js\): 1\.14\.7 \(default\), 1\.10\.11, 1\.8\.22, 1\.8\.0$/m);
    } finally {
      pins.forEach((f, i) => writeFileSync(f, saved[i]!));
    }
  }, 320_000);

  it('refuses what it cannot pin, in one line, and declares nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'matrix-versions-add-'));
    const config = join(dir, 'matrix.yaml');
    const text = readFileSync(join(root, 'matrix.yaml'), 'utf8');
    writeFileSync(config, text);
    for (const [args, message] of [
      [['rust', '1.0.0'], /^matrix: versions add: no implementation "rust"/],
      [['ts', '1.8'], /^matrix: versions add: "1\.8" is not an exact release/],
      [['ts', '9.9.9'], /^matrix: versions add: node scripts\/ts-version\.mjs --add 9\.9\.9 failed \(exit 2\): nothing was declared$/m],
    ] as const) {
      const run = await execa('node', [cli, 'versions', 'add', ...args, '--config', config], { cwd: root, reject: false, all: true, timeout: 120_000 });
      expect(run.exitCode).toBe(2);
      expect(run.all).toMatch(message);
    }
    expect(readFileSync(config, 'utf8')).toBe(text);
  }, 300_000);
});

describe('--latest', () => {
  it('runs the newest release the registry reports, pinned for this run only, and records it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'matrix-latest-'));
    const config = join(dir, 'matrix.yaml');
    // The registry's answer is faked (the newest grpc-js is the default release today).
    // python and go answer with their default releases, so the run depends on no registry but npm's.
    const text = readFileSync(join(root, 'matrix.yaml'), 'utf8')
      .replace('latest: [npm, view, "@grpc/grpc-js", version]', 'latest: [echo, v1.8.0]')
      .replace(/latest: \[interop\/python\/\.venv\/bin\/python, .*\]\n/, 'latest: [echo, "1.85.1"]\n')
      .replace('latest: [go, list, -m, -f, "{{.Version}}", google.golang.org/grpc@latest]', 'latest: [echo, v1.85.0]');
    expect(text.match(/latest: \[echo/g)).toHaveLength(3);
    writeFileSync(config, text);
    const pins = ['package.json', 'package-lock.json'].map((f) => join(root, 'interop/ts-versions/1.8.0', f));
    const saved = pins.map((f) => readFileSync(f));
    try {
      const out = join(dir, 'out');
      const run = await execa('node', [cli, '--config', config, '--latest', '--clients', 'ts@1.8.0', '--servers', 'python', '--suites', 'seeds', '--transports', 'insecure', '--grep', 'greeter_say_hello$', '--out', out], {
        cwd: root,
        reject: false,
        all: true,
        timeout: 300_000,
      });
      expect(run.all).toMatch(/latest ts: 1\.8\.0 \(not declared: pinned for this run\)/);
      expect(run.all).toMatch(/latest go: 1\.85\.0 \(already declared\)/);
      expect(run.exitCode).toBe(0);
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
      expect(results.plan?.latest?.['ts']).toBe('1.8.0');
      expect(results.cells.map((c) => [c.id, c.status])).toEqual([['ts@1.8.0→python/insecure/seeds/greeter_say_hello', 'passed']]);
      expect(readFileSync(config, 'utf8')).toBe(text); // the matrix file itself is not changed
    } finally {
      pins.forEach((f, i) => writeFileSync(f, saved[i]!));
    }
  }, 320_000);
});
