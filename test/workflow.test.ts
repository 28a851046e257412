/** ci/github/workflow.yml stays a valid GitHub Actions workflow (actionlint, pinned in ci/tools/go.mod). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../ts-common/src/paths.js';

const root = repoRoot();
const workflow = join(root, 'ci/github/workflow.yml');
const actionlint = (file: string) => execa('go', ['tool', 'actionlint', '-no-color', file], { cwd: join(root, 'ci/tools'), reject: false, all: true });

describe('ci/github/workflow.yml', () => {
  it('passes actionlint', async () => {
    const run = await actionlint(workflow);
    expect(run.all).toBe('');
    expect(run.exitCode).toBe(0);
  }, 180_000);

  it('actionlint would catch a broken workflow (so the check can fail)', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'workflow-')), 'broken.yml');
    writeFileSync(broken, readFileSync(workflow, 'utf8').replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    timeout-minute: 60'));
    const run = await actionlint(broken);
    expect(run.exitCode).not.toBe(0);
    expect(run.all).toMatch(/timeout-minute/);
  }, 180_000);
});
