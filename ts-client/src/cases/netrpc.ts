import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { parse, parseNumberAndBigInt, stringify } from 'lossless-json';
import { hostPort } from '../../../ts-common/src/cli.js';
import { CheckFailure, expectThat } from '../check.js';
import type { CaseContext } from '../context.js';
import type { CaseFn } from './registry.js';

/**
 * The `netrpc` suite (docs/peer-contract.md, "The netrpc suite"): the reference document's Panda
 * service of Go's net/rpc (interop/netrpc), not gRPC. JSON-RPC 1.0 over a `node:net` socket, with
 * lossless-json so that every integer stays exact: JSON.parse would turn 9007199254740993 into
 * 9007199254740992 (a double), so answers are parsed with parseNumberAndBigInt (every integer a
 * BigInt, anything else a number) and requests written with lossless-json's stringify (a BigInt as
 * a bare JSON number). And GET /panda with `node:http`.
 *
 * Framing: one JSON object per request, `{"method":"Panda.Getinfo","params":[ARG],"id":N}`, ids
 * 1, 2, 3, … per connection; the answers `{"id":N,"result":R,"error":null}` are read as a stream of
 * JSON values (Go's encoder ends each with a newline, but an answer may come in several reads, and
 * several in one). Every call has the --rpc_timeout_ms deadline, from its request to its answer.
 */

const GETINFO = 'Panda.Getinfo';

type Pair = readonly [arg: bigint, reply: bigint];
/** (arg, arg + 1 as Go's int computes it) of the value cases. */
const GETINFO_VALUES: Pair[] = [
  [123n, 124n],
  [0n, 1n],
  [-1n, 0n],
  [-124n, -123n],
];
const BEYOND_2_53_VALUES: Pair[] = [
  [9007199254740992n, 9007199254740993n],
  [9007199254740993n, 9007199254740994n],
  [-9007199254740995n, -9007199254740994n],
];
const INT64_EDGES_VALUES: Pair[] = [
  [2n ** 63n - 2n, 2n ** 63n - 1n],
  [-(2n ** 63n), -(2n ** 63n) + 1n],
];
const WRAPS_VALUES: Pair[] = [[2n ** 63n - 1n, -(2n ** 63n)]];
const PIPELINED = 16;

/** The arg of request i (1..16) of netrpc_jsonrpc_pipelined. */
export const pipelinedArg = (i: number): bigint => BigInt(i) * 2n ** 40n + BigInt(i);

/** A value as JSON text, exactly (BigInt as its digits). */
const json = (value: unknown): string => stringify(value) ?? String(value);

const label = (method: string, param: unknown): string => `JSON-RPC ${method}(${json(param)})`;

/** One answer: as parsed (integers BigInt), and its text as it came. */
export interface Answer {
  value: unknown;
  text: string;
}

const member = (answer: Answer, name: string): unknown =>
  answer.value !== null && typeof answer.value === 'object' && !Array.isArray(answer.value) ? (answer.value as Record<string, unknown>)[name] : undefined;

/**
 * The end of the JSON object or array that starts `text` at `start` (its index after the last
 * character), or -1 when it is not whole yet. Strings (and their escapes) are skipped.
 */
function valueEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** Reading or writing failed: the socket's error, its end, or the deadline. */
class ConnectionFailure extends Error {}

/** One connection to the server: requests written as JSON text, answers read as a stream of JSON values. */
export class JsonRpcConnection {
  private nextId = 1;
  private text = '';
  private readonly decoder = new StringDecoder('utf8');
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.text += this.decoder.write(chunk);
      this.notify();
    });
    socket.on('end', () => this.stop(new ConnectionFailure(`the server closed the connection${this.text.trim() ? ` (unparsed: ${this.text.slice(0, 200)})` : ''}`)));
    socket.on('error', (err) => this.stop(new ConnectionFailure(err.message)));
    socket.on('close', () => this.stop(new ConnectionFailure('the connection closed')));
  }

  /** Connects within the deadline; a failure names the connection. */
  static open(host: string, port: number, timeoutMs: number): Promise<JsonRpcConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new CheckFailure(`JSON-RPC connection to ${hostPort(host, port)}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new JsonRpcConnection(socket, timeoutMs));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new CheckFailure(`JSON-RPC connection to ${hostPort(host, port)}: ${err.message}`));
      });
    });
  }

  private stop(err: Error): void {
    this.failure ??= err;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  close(): void {
    this.socket.destroy();
  }

  /** The next request's id and text. */
  request(method: string, param: unknown): { id: number; text: string } {
    const id = this.nextId++;
    return { id, text: json({ method, params: [param], id }) };
  }

  /** Writes the requests (in one write); resolves when they were handed to the socket. */
  send(texts: string[], deadline: number): Promise<void> {
    return this.within(deadline, new Promise<void>((resolve, reject) => this.socket.write(texts.join(''), (err) => (err ? reject(new ConnectionFailure(err.message)) : resolve()))));
  }

  /** Rejects with ConnectionFailure when the deadline (a performance.now() time) passes first. */
  private async within<T>(deadline: number, promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ConnectionFailure(`deadline exceeded (${this.timeoutMs} ms)`)), Math.max(deadline - performance.now(), 0));
    });
    try {
      return await Promise.race([promise, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next whole answer, parsed; ConnectionFailure when none comes by the deadline. */
  async readAnswer(deadline: number): Promise<Answer> {
    for (;;) {
      const start = this.text.search(/[^ \t\r\n]/);
      if (start >= 0) {
        const first = this.text[start];
        if (first !== '{' && first !== '[') throw new ConnectionFailure(`not a JSON object: ${this.text.slice(start, start + 200)}`);
        const end = valueEnd(this.text, start);
        if (end >= 0) {
          const text = this.text.slice(start, end);
          this.text = this.text.slice(end);
          try {
            return { value: parse(text, null, parseNumberAndBigInt), text };
          } catch (err) {
            throw new ConnectionFailure(`not JSON (${(err as Error).message}): ${text.slice(0, 200)}`);
          }
        }
      }
      if (this.failure) throw this.failure;
      await this.within(deadline, new Promise<void>((resolve) => (this.wake = resolve)));
    }
  }

  /** method(param) within the deadline; a failure to get an answer names the call and `wanted`. */
  async call(method: string, param: unknown, wanted: string): Promise<Answer> {
    const deadline = performance.now() + this.timeoutMs;
    const { text } = this.request(method, param);
    try {
      await this.send([text], deadline);
      return await this.readAnswer(deadline);
    } catch (err) {
      if (err instanceof ConnectionFailure) throw new CheckFailure(`${label(method, param)}: expected ${wanted}, got no answer: ${err.message}`);
      throw err;
    }
  }
}

/** Runs f on a new JSON-RPC connection to the target, then closes it. */
async function onConnection(ctx: CaseContext, f: (connection: JsonRpcConnection) => Promise<void>): Promise<void> {
  const connection = await JsonRpcConnection.open(ctx.target.host, ctx.target.port, ctx.target.rpcTimeoutMs);
  try {
    await f(connection);
  } finally {
    connection.close();
  }
}

const isNull = (value: unknown): boolean => value === null || value === undefined;

function expectValues(values: Pair[]): CaseFn {
  return (ctx) =>
    onConnection(ctx, async (connection) => {
      for (const [arg, reply] of values) {
        const wanted = `result ${reply} and error null`;
        const answer = await connection.call(GETINFO, arg, wanted);
        const ok = member(answer, 'result') === reply && member(answer, 'error') === null;
        expectThat(label(GETINFO, arg), ok, `expected ${wanted}, got ${answer.text}`);
      }
    });
}

/** Params that are no Go int: a non-empty string error and a null (or absent) result. */
const notAnInt: CaseFn = (ctx) =>
  onConnection(ctx, async (connection) => {
    const wanted = 'a non-empty string error and a null result';
    for (const param of [2n ** 63n, 1.5, '123']) {
      const answer = await connection.call(GETINFO, param, wanted);
      const error = member(answer, 'error');
      const ok = typeof error === 'string' && error !== '' && isNull(member(answer, 'result'));
      expectThat(label(GETINFO, param), ok, `expected ${wanted}, got ${answer.text}`);
    }
  });

/** net/rpc's own errors (server.go, readRequestHeader). */
const unknownMethod: CaseFn = (ctx) =>
  onConnection(ctx, async (connection) => {
    for (const [method, message] of [
      ['Panda.Nope', "rpc: can't find method Panda.Nope"],
      ['Nope.Getinfo', "rpc: can't find service Nope.Getinfo"],
    ] as const) {
      const wanted = `error ${json(message)} and a null result`;
      const answer = await connection.call(method, 123n, wanted);
      const ok = member(answer, 'error') === message && isNull(member(answer, 'result'));
      expectThat(label(method, 123n), ok, `expected ${wanted}, got ${answer.text}`);
    }
  });

/**
 * 16 requests on one connection, ids 1..16, all written (in one write) before any answer is read;
 * each answer, matched by its id, must be its request's arg + 1.
 */
const pipelined: CaseFn = (ctx) =>
  onConnection(ctx, async (connection) => {
    const deadline = performance.now() + connection.timeoutMs;
    const requests = Array.from({ length: PIPELINED }, (_, i) => connection.request(GETINFO, pipelinedArg(i + 1)));
    const what = `${PIPELINED} pipelined JSON-RPC ${GETINFO} requests (ids 1..${PIPELINED}, args i*2^40+i)`;
    const answers = new Map<number, Answer>();
    try {
      await connection.send(
        requests.map((r) => r.text),
        deadline,
      );
      while (answers.size < PIPELINED) {
        const answer = await connection.readAnswer(deadline);
        const id = member(answer, 'id');
        const n = typeof id === 'bigint' && id >= 1n && id <= BigInt(PIPELINED) ? Number(id) : undefined;
        if (n === undefined || answers.has(n)) throw new CheckFailure(`${what}: expected each id 1..${PIPELINED} once, got ${answer.text} after ${answers.size} answers`);
        answers.set(n, answer);
      }
    } catch (err) {
      if (err instanceof ConnectionFailure) throw new CheckFailure(`${what}: expected ${PIPELINED} answers, got ${answers.size} and then ${err.message}`);
      throw err;
    }
    for (let id = 1; id <= PIPELINED; id++) {
      const arg = pipelinedArg(id);
      const answer = answers.get(id)!;
      const ok = member(answer, 'result') === arg + 1n && member(answer, 'error') === null;
      expectThat(`${label(GETINFO, arg)}, request id ${id} of ${PIPELINED} pipelined`, ok, `expected result ${arg + 1n} and error null, got ${answer.text}`);
    }
  });

/** GET /panda: status 200 and exactly `panda`. */
const httpPanda: CaseFn = async (ctx) => {
  const url = `http://${hostPort(ctx.target.host, ctx.target.port)}/panda`;
  const wanted = 'status 200 and body "panda"';
  const timeoutMs = ctx.target.rpcTimeoutMs;
  const got = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`deadline exceeded (${timeoutMs} ms)`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end();
  }).catch((err: Error) => {
    throw new CheckFailure(`GET ${url}: expected ${wanted}, got ${err.message}`);
  });
  expectThat(`GET ${url}`, got.status === 200 && got.body === 'panda', `expected ${wanted}, got status ${got.status} and body ${JSON.stringify(got.body)}`);
};

/** The netrpc suite as the TypeScript client runs it (the gob cases are the Go client's only). */
export const NETRPC_CASES: Record<string, CaseFn> = {
  netrpc_jsonrpc_getinfo: expectValues(GETINFO_VALUES),
  netrpc_jsonrpc_beyond_2_53: expectValues(BEYOND_2_53_VALUES),
  netrpc_jsonrpc_int64_edges: expectValues(INT64_EDGES_VALUES),
  netrpc_jsonrpc_wraps: expectValues(WRAPS_VALUES),
  netrpc_jsonrpc_not_an_int: notAnInt,
  netrpc_jsonrpc_unknown_method: unknownMethod,
  netrpc_jsonrpc_pipelined: pipelined,
  netrpc_http_panda: httpPanda,
};
