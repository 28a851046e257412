/** ci/github/workflow.yml stays a valid GitHub Actions workflow (actionlint, pinned in ci/tools/go.mod). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../ts-common/src/paths.js';

const root = repoRoot();
const workflow = join(root, 'ci/github/workflow.yml');
const bin = mkdtempSync(join(tmpdir(), 'actionlint-'));
const binary = join(bin, 'actionlint');
const actionlint = (file: string) => execa(binary, ['-no-color', file], { reject: false, all: true });

describe('ci/github/workflow.yml', () => {
  // Built once, at the version ci/tools/go.mod pins, so that what the Go toolchain prints while
  // it downloads and compiles (`go: downloading …` with an empty module cache) is kept apart
  // from what actionlint prints.
  beforeAll(async () => {
    const build = await execa('go', ['build', '-o', binary, 'github.com/rhysd/actionlint/cmd/actionlint'], { cwd: join(root, 'ci/tools'), reject: false, all: true });
    if (build.exitCode !== 0) throw new Error(`building actionlint failed (exit ${build.exitCode ?? build.signal}):\n${build.all}`);
  }, 300_000);

  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  it('passes actionlint', async () => {
    const run = await actionlint(workflow);
    expect(run.all).toBe('');
    expect(run.exitCode).toBe(0);
  }, 60_000);

  it('actionlint would catch a broken workflow (so the check can fail)', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'workflow-')), 'broken.yml');
    writeFileSync(broken, readFileSync(workflow, 'utf8').replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    timeout-minute: 60'));
    const run = await actionlint(broken);
    expect(run.exitCode).not.toBe(0);
    expect(run.all).toMatch(/timeout-minute/);
  }, 60_000);
});

describe('ci/github/workflow.yml runs what the CLI accepts', () => {
  const cli = join(root, 'build/ts/runner/src/cli.js');
  const text = readFileSync(workflow, 'utf8');
  /** The arguments after `npm run matrix --` of every run step, with the shard expression filled in. */
  const matrixRuns = [...text.matchAll(/npm run matrix -- (.+)$/gm)].map((m) => m[1]!.replace(/\$\{\{ matrix\.shard \}\}/g, '1').replace(/"/g, '').split(/\s+/));

  it('builds the images once and shares them: the shard jobs need that job and load its archive', () => {
    expect(text).toMatch(/npm run matrix -- --launcher docker --build-only --save-images images\.tar/);
    expect(text).toMatch(/shard:[\s\S]*needs: images[\s\S]*name: interop-images[\s\S]*docker load -i images\.tar/);
  });

  it('every `npm run matrix --` line of it is a selection the CLI plans (checked with --list)', async () => {
    const runs = matrixRuns.filter((args) => args[0] !== 'merge');
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const args of runs) {
      const listed = await execa('node', [cli, ...args, '--list'], { cwd: root, reject: false, all: true });
      expect({ args, exitCode: listed.exitCode, tail: listed.exitCode === 0 ? '' : listed.all }).toEqual({ args, exitCode: 0, tail: '' });
      expect(listed.stdout.split('\n').length).toBeGreaterThan(100);
    }
  }, 120_000);
});
