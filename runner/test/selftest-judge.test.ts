/** How the self-test reads the cells of a run against one fault (judgeFaultRun). */
import type { CellResult, CellStatus } from '../src/results.js';
import { judgeFaultRun } from '../src/selftest.js';

const cell = (name: string, client: string, status: CellStatus, error?: string): CellResult => ({
  id: `${client}→s/insecure/suite/${name}`,
  client,
  server: 's',
  transport: 'insecure',
  suite: 'suite',
  case: name,
  status,
  durationMs: 1,
  attempts: 1,
  ...(error ? { error } : {}),
});
const every = () => true;

describe('judgeFaultRun', () => {
  it('a case is detected when every cell that can judge failed by a check; a passing cell is missed', () => {
    const cells = [cell('a', 'x', 'failed', 'status: expected OK'), cell('a', 'y', 'known_failure'), cell('b', 'x', 'failed', 'nope'), cell('b', 'y', 'passed')];
    expect(judgeFaultRun(cells, ['a', 'b'], every)).toEqual({ missed: ['y→s/insecure/suite/b'], detectedCases: ['a'] });
  });

  it('a cell that failed because its server never came up or died does not count', () => {
    const cells = [cell('a', 'x', 'failed', 'server s failed to start: exit 2')];
    expect(judgeFaultRun(cells, ['a'], every)).toEqual({ missed: ['x→s/insecure/suite/a'], detectedCases: [] });
  });

  it('a case whose every cell is a known failure counts as detected (it fails anyway); one with no cell does not', () => {
    const cells = [cell('a', 'x', 'known_failure'), cell('a', 'y', 'known_failure')];
    expect(judgeFaultRun(cells, ['a', 'b'], every)).toEqual({ missed: [], detectedCases: ['a'] });
  });

  it('cells the fault is not meant to break are left out', () => {
    const cells = [cell('a', 'x', 'failed', 'caught'), cell('a', 'y', 'passed')];
    expect(judgeFaultRun(cells, ['a'], (c) => c.client === 'x')).toEqual({ missed: [], detectedCases: ['a'] });
  });
});
