/**
 * The http2 suite's cases are h2spec's tests: matrix.yaml must list exactly the tests of the
 * pinned h2spec (build/h2spec/list prints them from h2spec's own packages), so that a new h2spec
 * release cannot add or renumber tests behind the suite's back.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../ts-common/src/paths.js';
import { loadMatrix } from '../runner/src/config.js';

describe('the http2 suite', () => {
  it('lists exactly the tests of the pinned h2spec, in its order', async () => {
    const root = repoRoot();
    const listed = (await execa(join(root, 'build/h2spec/list'))).stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t')[0]!.replaceAll('/', '-'));
    expect(listed.length).toBeGreaterThan(100);
    const suite = loadMatrix(join(root, 'matrix.yaml')).suites['http2']!;
    expect(suite.cases.map((c) => c.name)).toEqual(listed);
  });
});
