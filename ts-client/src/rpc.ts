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

export function isServiceError(err: unknown): err is grpc.ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && 'details' in err;
}

/** "DEADLINE_EXCEEDED: Deadline exceeded after 5.001s" */
export function describeError(err: unknown): string {
  if (isServiceError(err)) return `${status[err.code] ?? err.code}: ${err.details}`;
  return err instanceof Error ? err.message : String(err);
}
