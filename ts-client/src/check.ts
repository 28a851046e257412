import { AsyncLocalStorage } from 'node:async_hooks';
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

/** Set, for the case running in it, when its checks are switched off (--client_fault=no-checks). */
const unchecked = new AsyncLocalStorage<true>();

/**
 * Runs a case with every check of this module switched off (self-test only,
 * `--client_fault=no-checks`): each check passes, so the case goes on making its calls, and a
 * case that cannot go on (an RPC whose reply it needs failed) just ends there. Either way the
 * case passes.
 */
export async function withoutChecks(run: () => Promise<void>): Promise<void> {
  await unchecked.run(true, async () => {
    try {
      await run();
    } catch {
      // nothing is checked: whatever went wrong is not the case's verdict
    }
  });
}

/** Every failed check ends here: the one place the checks can be switched off. */
function fail(message: string): void {
  if (unchecked.getStore() === undefined) throw new CheckFailure(message);
}

export function expectEqual<T>(what: string, expected: T, got: T): void {
  if (!isDeepStrictEqual(got, expected)) fail(`${what}: expected ${show(expected)}, got ${show(got)}`);
}

export function expectThat(what: string, ok: boolean, detail: string): void {
  if (!ok) fail(`${what}: ${detail}`);
}

/**
 * Awaits an RPC that must succeed; a gRPC error becomes a failure naming the RPC. (Without
 * checks, the error itself ends the case: there is no reply to go on with.)
 */
export async function expectOk<T>(what: string, rpc: Promise<T>): Promise<T> {
  try {
    return await rpc;
  } catch (err) {
    fail(`${what}: expected OK, got ${describeError(err)}`);
    throw err;
  }
}

/** Awaits an RPC that must fail with `code`, and whose message contains `mentions` if given. */
export async function expectStatus(what: string, rpc: Promise<unknown>, code: status, mentions?: string): Promise<void> {
  let got: unknown;
  try {
    got = await rpc;
  } catch (err) {
    if (!isServiceError(err) || err.code !== code) {
      fail(`${what}: expected ${status[code]}, got ${describeError(err)}`);
    } else if (mentions !== undefined && !err.details.includes(mentions)) {
      fail(`${what}: expected a message naming ${show(mentions)}, got ${show(err.details)}`);
    }
    return;
  }
  fail(`${what}: expected ${status[code]}, got OK ${show(got)}`);
}

/** The status a call ended with (see `settled` and `drain`) must be `code` with exactly `message`. */
export function expectEnded(what: string, got: { code: number; details: string }, code: status, message: string): void {
  expectEqual(`${what} status`, status[code], status[got.code] ?? String(got.code));
  expectEqual(`${what} message`, message, got.details);
}
