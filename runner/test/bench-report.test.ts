import { compareBench, renderChanges, renderLoad, renderThroughput, type BenchResults } from '../src/bench-report.js';

const timings = { buildMs: 900, serverStarts: 21, serverStartMs: 7600, clientRuns: 286, clientMs: 27_200, caseMs: 15_200 };

function bench(cellsPerS: number, p50: number, p99: number, msgs: number): BenchResults {
  return {
    schema: 1,
    startedAt: '2026-11-21T00:00:00.000Z',
    machine: { cpus: 2, cpuModel: 'test', node: 'v20' },
    throughput: [{ mode: 'batched', cells: 1227, wallMs: 1227_000 / cellsPerS, cellsPerS, bad: 0, timings }],
    load: {
      settings: { calls: 2000, warmup: 200, messages: 20_000, size: 16, timeLimitMs: 20_000 },
      pairings: [{ id: 'ts→go/insecure', client: 'ts', server: 'go', transport: 'insecure', unary: { calls: 2000, p50_us: p50, p99_us: p99, mean_us: p50 }, server_streaming: { messages: 20_000, msgs_per_s: msgs } }],
    },
  };
}

describe('bench reports', () => {
  it('a figure worse than the tolerance is a regression; better or within it is not', () => {
    const changes = compareBench(bench(80, 500, 2000, 40_000), bench(40, 600, 900, 41_000), 0.5);
    expect(changes.map((c) => [c.what, c.regression])).toEqual([
      ['matrix batched cells/s', true], // 80 → 40: 100 % worse
      ['ts→go/insecure unary p50 µs', false], // +20 %
      ['ts→go/insecure unary p99 µs', false], // better
      ['ts→go/insecure stream msgs/s', false],
    ]);
    expect(changes[0]!.worse).toBeCloseTo(1);
    expect(renderChanges(changes, 0.5)).toMatch(/matrix batched cells\/s\s+80\s+40\s+\+100 % worse\s+REGRESSION[\s\S]*1 regression\n$/);
  });

  it('latency counts lower as better, throughput higher', () => {
    const slower = compareBench(bench(80, 500, 2000, 40_000), bench(80, 1000, 2000, 10_000), 0.5);
    expect(slower.filter((c) => c.regression).map((c) => c.what)).toEqual(['ts→go/insecure unary p50 µs', 'ts→go/insecure stream msgs/s']);
  });

  it('pairings only in one of them are not compared', () => {
    const other = bench(80, 500, 2000, 40_000);
    other.load!.pairings[0]!.id = 'go→go/insecure';
    expect(compareBench(bench(80, 500, 2000, 40_000), other, 0.5).map((c) => c.what)).toEqual(['matrix batched cells/s']);
  });

  it('renders the throughput breakdown and the load table', () => {
    const b = bench(80, 500.04, 2000, 40_000.4);
    expect(renderThroughput(b.throughput)).toMatch(/batched\s+1227\s+15\.3 s\s+80\.0\s+n\/a\s+n\/a\s+0\.9 s\s+21 × = 7\.6 s\s+286 × = 27\.2 s\s+15\.2 s\s+12\.0 s/);
    expect(renderLoad(b.load!)).toMatch(/ts→go\/insecure\s+2000\s+500\.0\s+2000\.0\s+500\.0\s+40000/);
    b.throughput[0]!.cpu = { machineS: 29.5, runnerS: 4.25 };
    expect(renderThroughput(b.throughput)).toMatch(/batched\s+1227\s+15\.3 s\s+80\.0\s+29\.5 s\s+4\.3 s\s+0\.9 s/);
  });

  it('says where the wall time went, from the server groups\' time line (absent in older figures)', () => {
    const b = bench(80, 500, 2000, 40_000);
    expect(renderThroughput(b.throughput)).not.toMatch(/last to end/);
    b.throughput[0]!.timings = {
      ...timings,
      groups: [
        { group: 'go/insecure', cells: 600, startMs: 0, endMs: 9_000 },
        { group: 'python/tls/paced', paced: true, cells: 27, startMs: 2_000, endMs: 15_100 },
        { group: 'ts/tls', cells: 600, startMs: 0, endMs: 12_000 },
      ],
    };
    expect(renderThroughput(b.throughput)).toMatch(/^batched: cases 15\.1 s; CPU-bound groups 2 busy 21\.0 s, paced groups 1 busy 13\.1 s; last to end: python\/tls\/paced \(27 cells, 2\.0 s → 15\.1 s\)$/m);
  });

  it('with both launchers: a row each, the docker / process ratios of wall and CPU, and compared per launcher', () => {
    const b = bench(80, 500, 2000, 40_000);
    const local = { ...b.throughput[0]!, launcher: 'process' as const, cpu: { machineS: 30, runnerS: 4 } };
    const docker = { ...local, launcher: 'docker' as const, wallMs: local.wallMs * 1.5, cellsPerS: 53.3, cpu: { machineS: 36, runnerS: 5 } };
    const text = renderThroughput([local, docker]);
    expect(text).toMatch(/^docker batched\s+1227\s+23\.0 s\s+53\.3\s+36\.0 s/m);
    expect(text).toMatch(/^docker \/ process \(batched\): wall 1\.50×, machine CPU 1\.20×$/m);
    const now = { ...b, throughput: [local, { ...docker, cellsPerS: 20 }] };
    expect(compareBench({ ...b, throughput: [local, docker] }, now, 0.5).map((c) => [c.what, c.regression]).slice(0, 2)).toEqual([
      ['matrix batched cells/s', false],
      ['matrix docker batched cells/s', true],
    ]);
  });

  it('a docker run over other cells than the process run says so beside the ratio', () => {
    const b = bench(80, 500, 2000, 40_000);
    const docker = { ...b.throughput[0]!, launcher: 'docker' as const, cells: 36 };
    expect(renderThroughput([b.throughput[0]!, docker])).toMatch(/wall 1\.00× \(not the same cells: 36 against 1227\)/);
  });

  it('says n/a for start-up and exit when a client ran its cases concurrently (their sum exceeds its run time)', () => {
    const b = bench(80, 500, 2000, 40_000);
    b.throughput[0]!.timings = { ...timings, caseMs: 40_000 };
    const text = renderThroughput(b.throughput);
    expect(text).toMatch(/27\.2 s\s+40\.0 s\s+n\/a/);
    expect(text).toMatch(/runs its cases concurrently/);
  });
});
