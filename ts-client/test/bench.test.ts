import { percentile, runBench, type BenchLine } from '../src/bench.js';
import { CaseContext } from '../src/context.js';
import { parseFaults } from '../../ts-server/src/faults.js';
import { serve } from '../../ts-server/src/server.js';
import { unusedPort } from '../../ts-common/src/net.js';

const LOAD = { calls: 50, warmup: 5, messages: 500, size: 16, timeLimitMs: 10_000 };

describe('load mode', () => {
  it('percentile is nearest rank', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile([7], 0.5)).toBe(7);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([1, 2, 3], 0.5)).toBe(2);
    expect(() => percentile([], 0.5)).toThrow(RangeError);
  });

  it('measures unary latency and server-streaming throughput against the ts server', async () => {
    const server = await serve({ host: '127.0.0.1', port: 0, faults: parseFaults('') });
    const lines: BenchLine[] = [];
    try {
      const failed = await runBench(new CaseContext({ host: '127.0.0.1', port: server.port, rpcTimeoutMs: 5000 }), ['unary', 'server_streaming'], LOAD, (l) => lines.push(l));
      expect(failed).toBe(0);
    } finally {
      await server.stop(100);
    }
    const [unaryLine, streamLine] = lines;
    expect(unaryLine).toMatchObject({ bench: 'unary', calls: 50 });
    expect(unaryLine!.p50_us).toBeGreaterThan(0);
    expect(unaryLine!.p99_us).toBeGreaterThanOrEqual(unaryLine!.p50_us as number);
    expect(streamLine).toMatchObject({ bench: 'server_streaming', messages: 500, bytes_per_message: 16 });
    expect(streamLine!.msgs_per_s).toBeGreaterThan(0);
  });

  it('stops at the time limit with what it measured', async () => {
    const server = await serve({ host: '127.0.0.1', port: 0, faults: parseFaults('') });
    const lines: BenchLine[] = [];
    try {
      await runBench(new CaseContext({ host: '127.0.0.1', port: server.port, rpcTimeoutMs: 5000 }), ['unary'], { ...LOAD, calls: 10_000_000, timeLimitMs: 300 }, (l) => lines.push(l));
    } finally {
      await server.stop(100);
    }
    expect(lines[0]!.calls).toBeGreaterThan(0);
    expect(lines[0]!.calls).toBeLessThan(10_000_000);
  });

  it('a measurement whose RPC fails prints an error line and the next one still runs', async () => {
    const port = await unusedPort();
    const lines: BenchLine[] = [];
    const warnings: string[] = [];
    const failed = await runBench(new CaseContext({ host: '127.0.0.1', port, rpcTimeoutMs: 300 }), ['unary', 'server_streaming'], { ...LOAD, timeLimitMs: 300 }, (l) => lines.push(l), (w) => warnings.push(w));
    expect(failed).toBe(2);
    expect(warnings).toEqual([expect.stringMatching(/^bench unary: /), expect.stringMatching(/^bench server_streaming: /)]);
    expect(lines).toEqual([
      { bench: 'unary', error: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) },
      { bench: 'server_streaming', error: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) },
    ]);
  });
});
