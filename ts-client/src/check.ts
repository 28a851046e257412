import { isDeepStrictEqual } from 'node:util';
import { status } from '@grpc/grpc-js';
import { describeError, isServiceError } from './rpc.js';

/** A failed check: its message is the case's error in the report. */
export class CheckFailure extends Error {}

const MAX_SHOWN = 300;

/** A value for a failure message: buffers as their size, long text cut. */
export function show(v: unknown): string {
  const text = JSON.stringify(v, (_key, value: unknown) => {
    if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
    const data = (value as { type?: string; data?: unknown[] } | null)?.data;
    if ((value as { type?: string } | null)?.type === 'Buffer' && Array.isArray(data)) return `<${data.length} bytes>`;
    return value;
  });
  return text !== undefined && text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}… (${text.length} characters)` : String(text);
}

export function expectEqual<T>(what: string, expected: T, got: T): void {
  if (!isDeepStrictEqual(got, expected)) throw new CheckFailure(`${what}: expected ${show(expected)}, got ${show(got)}`);
}

export function expectThat(what: string, ok: boolean, detail: string): void {
  if (!ok) throw new CheckFailure(`${what}: ${detail}`);
}

/** Awaits an RPC that must succeed; a gRPC error becomes a failure naming the RPC. */
export async function expectOk<T>(what: string, rpc: Promise<T>): Promise<T> {
  try {
    return await rpc;
  } catch (err) {
    throw new CheckFailure(`${what}: expected OK, got ${describeError(err)}`);
  }
}

/** Awaits an RPC that must fail with `code`, and whose message contains `mentions` if given. */
export async function expectStatus(what: string, rpc: Promise<unknown>, code: status, mentions?: string): Promise<void> {
  let got: unknown;
  try {
    got = await rpc;
  } catch (err) {
    if (!isServiceError(err) || err.code !== code) {
      throw new CheckFailure(`${what}: expected ${status[code]}, got ${describeError(err)}`);
    }
    if (mentions !== undefined && !err.details.includes(mentions)) {
      throw new CheckFailure(`${what}: expected a message naming ${show(mentions)}, got ${show(err.details)}`);
    }
    return;
  }
  throw new CheckFailure(`${what}: expected ${status[code]}, got OK ${show(got)}`);
}
