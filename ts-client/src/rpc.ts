import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';

/** Call options with a deadline `timeoutMs` from now: every RPC of the suite has one. */
export const within = (timeoutMs: number): grpc.CallOptions => ({ deadline: Date.now() + timeoutMs });

/** A unary call as a promise: `unary((cb) => client.SayHello(req, within(ms), cb))`. */
export function unary<T>(start: (callback: grpc.requestCallback<T>) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

/** Every message of a server stream, once it ends with OK. */
export function collect<T>(stream: grpc.ClientReadableStream<T>): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    const messages: T[] = [];
    stream.on('data', (m: T) => messages.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(messages));
  });
}

/** The status a call ends with, however it ends. */
export function finalStatus(call: Pick<grpc.Call, 'on'>): Promise<grpc.StatusObject> {
  return new Promise((resolve) => call.on('status', resolve));
}

/** Every message of a server stream, and the status it ended with, OK or not. */
export function drain<T>(stream: grpc.ClientReadableStream<T>): Promise<{ messages: T[]; status: grpc.StatusObject }> {
  return new Promise((resolve) => {
    const messages: T[] = [];
    let ended = false;
    let final: grpc.StatusObject | undefined;
    // 'status' can come before the last buffered messages: wait for the end of the messages too.
    const settle = () => {
      if (ended && final) resolve({ messages, status: final });
    };
    stream.on('data', (m: T) => messages.push(m));
    stream.on('error', () => undefined); // the status tells
    stream.on('end', () => {
      ended = true;
      settle();
    });
    stream.on('status', (s: grpc.StatusObject) => {
      final = s;
      settle();
    });
  });
}

/** How an RPC ended: OK, or the gRPC error it failed with (any other error is thrown on). */
export async function settled(rpc: Promise<unknown>): Promise<{ code: status; details: string }> {
  try {
    await rpc;
    return { code: status.OK, details: '' };
  } catch (err) {
    if (isServiceError(err)) return err;
    throw err;
  }
}

export function isServiceError(err: unknown): err is grpc.ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && 'details' in err;
}

/** "DEADLINE_EXCEEDED: Deadline exceeded after 5.001s" */
export function describeError(err: unknown): string {
  if (isServiceError(err)) return `${status[err.code] ?? err.code}: ${err.details}`;
  return err instanceof Error ? err.message : String(err);
}
