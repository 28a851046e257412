import { SEEDS_CASES } from '../src/cases/seeds.js';
import { runCase } from '../src/run-case.js';
import { parseFaults } from '../../ts-server/src/faults.js';
import { serve, type RunningServer } from '../../ts-server/src/server.js';

/** The TypeScript client against the TypeScript server, in one process. */
async function withServer(fault: string, fn: (port: number) => Promise<void>): Promise<void> {
  const server: RunningServer = await serve({ host: '127.0.0.1', port: 0, faults: parseFaults(fault) });
  try {
    await fn(server.port);
  } finally {
    await server.stop(100);
  }
}

const singleProcessCases = Object.keys(SEEDS_CASES).filter((c) => c !== 'reuseport_workers');

describe('ts client against the in-process ts server', () => {
  it.each(singleProcessCases)('%s passes', async (name) => {
    await withServer('', async (port) => {
      const result = await runCase(name, { host: '127.0.0.1', port, rpcTimeoutMs: 5000 });
      expect(result).toMatchObject({ case: name, status: 'passed' });
    });
  });

  it('reuseport_workers fails against a single process', async () => {
    await withServer('', async (port) => {
      const result = await runCase('reuseport_workers', { host: '127.0.0.1', port, rpcTimeoutMs: 5000 });
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(/at least 2 workers/);
    });
  });

  it('an unknown case is a failed case, not a crash', async () => {
    const result = await runCase('no_such_case', { host: '127.0.0.1', port: 1, rpcTimeoutMs: 100 });
    expect(result).toMatchObject({ status: 'failed', error: 'unknown test case: no_such_case' });
  });

  it('a hung stream fails at its deadline', async () => {
    await withServer('bidi-buffered', async (port) => {
      const result = await runCase('stream_bidi', { host: '127.0.0.1', port, rpcTimeoutMs: 300 });
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(/DEADLINE_EXCEEDED/);
    });
  });
});
