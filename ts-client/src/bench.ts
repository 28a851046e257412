/**
 * Load mode (docs/peer-contract.md, "Load mode"): a fixed, bounded load on one channel against
 * grpc.testing.TestService, for `npm run bench`. Each measurement prints one JSON line.
 */
import type { SimpleResponse__Output } from '../../ts-common/src/generated/grpc/testing/SimpleResponse.js';
import type { StreamingOutputCallResponse__Output } from '../../ts-common/src/generated/grpc/testing/StreamingOutputCallResponse.js';
import type { TestServiceClient } from '../../ts-common/src/generated/grpc/testing/TestService.js';
import type { CaseContext } from './context.js';
import { describeError, unary, within } from './rpc.js';

export const MEASUREMENTS = ['unary', 'server_streaming'] as const;
export type Measurement = (typeof MEASUREMENTS)[number];

export interface BenchLoad {
  calls: number;
  warmup: number;
  messages: number;
  size: number;
  timeLimitMs: number;
}

export type BenchLine = { bench: Measurement } & Record<string, number | string>;

/** Nearest rank: the value at index ceil(q·N)−1 of the sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('no values');
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const zeros = (size: number) => ({ type: 'COMPRESSABLE' as const, body: Buffer.alloc(size) });
const nowNs = () => process.hrtime.bigint();
const msSince = (start: bigint) => Number(nowNs() - start) / 1e6;

async function unaryLoad(client: TestServiceClient, ctx: CaseContext, load: BenchLoad): Promise<BenchLine> {
  const request = { response_size: load.size, payload: zeros(load.size) };
  const call = () => unary<SimpleResponse__Output>((cb) => client.UnaryCall(request, ctx.deadline(), cb));
  const began = nowNs();
  for (let i = 0; i < load.warmup && msSince(began) < load.timeLimitMs; i++) await call();
  const latenciesUs: number[] = [];
  const measured = nowNs();
  while (latenciesUs.length < load.calls && msSince(began) < load.timeLimitMs) {
    const start = nowNs();
    await call();
    latenciesUs.push(Number(nowNs() - start) / 1000);
  }
  const elapsedMs = msSince(measured);
  latenciesUs.sort((a, b) => a - b);
  const mean = latenciesUs.reduce((a, b) => a + b, 0) / Math.max(1, latenciesUs.length);
  return {
    bench: 'unary',
    calls: latenciesUs.length,
    p50_us: latenciesUs.length ? round(percentile(latenciesUs, 0.5), 1) : 0,
    p99_us: latenciesUs.length ? round(percentile(latenciesUs, 0.99), 1) : 0,
    mean_us: round(mean, 1),
    elapsed_ms: round(elapsedMs, 1),
  };
}

function streamingLoad(client: TestServiceClient, load: BenchLoad): Promise<BenchLine> {
  const request = { response_parameters: Array.from({ length: load.messages }, () => ({ size: load.size, interval_us: 0 })) };
  return new Promise((resolve, reject) => {
    const start = nowNs();
    let received = 0;
    const stream = client.StreamingOutputCall(request, within(load.timeLimitMs));
    stream.on('data', (_: StreamingOutputCallResponse__Output) => received++);
    stream.on('error', reject);
    stream.on('end', () => {
      const elapsedMs = msSince(start);
      if (received !== load.messages) reject(new Error(`expected ${load.messages} messages, got ${received}`));
      else resolve({ bench: 'server_streaming', messages: received, bytes_per_message: load.size, elapsed_ms: round(elapsedMs, 1), msgs_per_s: round(received / (elapsedMs / 1000), 1) });
    });
  });
}

/** Runs the measurements in order on one channel; prints a line each. Returns how many failed. */
export async function runBench(
  ctx: CaseContext,
  measurements: readonly Measurement[],
  load: BenchLoad,
  print: (line: BenchLine) => void,
  warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
): Promise<number> {
  const client = ctx.client(ctx.protos.grpc.testing.TestService);
  let failed = 0;
  try {
    for (const name of measurements) {
      try {
        print(name === 'unary' ? await unaryLoad(client, ctx, load) : await streamingLoad(client, load));
      } catch (err) {
        failed++;
        const error = describeError(err);
        print({ bench: name, error });
        warn(`bench ${name}: ${error}`);
      }
    }
  } finally {
    ctx.close();
  }
  return failed;
}
