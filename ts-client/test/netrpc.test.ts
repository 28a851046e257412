import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parse, parseNumberAndBigInt } from 'lossless-json';
import { repoRoot } from '../../ts-common/src/paths.js';
import { unusedPort } from '../../ts-common/src/net.js';
import { JsonRpcConnection, NETRPC_CASES } from '../src/cases/netrpc.js';
import { runCase } from '../src/run-case.js';

/**
 * The netrpc suite's cases (ts-client/src/cases/netrpc.ts) against the real net/rpc server,
 * build/netrpc/server (interop/netrpc; `npm test` builds it before the tests run).
 */

const SERVER = join(repoRoot(), 'build', 'netrpc', 'server');
const CASES = Object.keys(NETRPC_CASES);

/** The contract's faults and the cases each breaks (of the TypeScript client's); every other case passes. */
const BROKEN: Record<string, string[]> = {
  'reply-plus-two': ['netrpc_jsonrpc_getinfo', 'netrpc_jsonrpc_beyond_2_53', 'netrpc_jsonrpc_int64_edges', 'netrpc_jsonrpc_wraps', 'netrpc_jsonrpc_pipelined'],
  // float64(2^63-1) + 1 is 2^63, which the fault turns into MinInt64 (as amd64 does): what the wrap gives, so netrpc_jsonrpc_wraps passes.
  'reply-float64': ['netrpc_jsonrpc_beyond_2_53', 'netrpc_jsonrpc_int64_edges'],
  'reply-saturate': ['netrpc_jsonrpc_wraps'],
  'panda-text': ['netrpc_http_panda'],
  'unknown-method-ok': ['netrpc_jsonrpc_unknown_method'],
  'ids-swapped': ['netrpc_jsonrpc_pipelined'],
  'params-coerced': ['netrpc_jsonrpc_not_an_int'],
};

/** Starts build/netrpc/server --port=0 with flags, runs fn with its port, stops it (SIGTERM; it must exit 0). */
async function withNetrpcServer(flags: string[], fn: (port: number) => Promise<void>): Promise<void> {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: build it with \`bash interop/netrpc/build.sh\` (npm test builds it)`);
  const child: ChildProcess = spawn(SERVER, ['--port=0', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the netrpc server printed no listening line within 10 s')), 10_000);
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        const { event, port } = JSON.parse(line) as { event: string; port: number };
        if (event === 'listening') resolve(port);
        else reject(new Error(`listening line ${line}`));
      });
    });
    await fn(port);
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    expect(code).toBe(0);
  }
}

const target = (port: number, more: { clientFault?: string; rpcTimeoutMs?: number } = {}) => ({ host: '127.0.0.1', port, rpcTimeoutMs: 5000, ...more });

describe('the netrpc cases against build/netrpc/server', () => {
  it('every case passes against a correct server', async () => {
    await withNetrpcServer([], async (port) => {
      for (const name of CASES) expect(await runCase(name, target(port))).toMatchObject({ case: name, status: 'passed' });
    });
  });

  it.each(Object.entries(BROKEN))('%s breaks exactly its cases, and no-checks passes every case', async (fault, broken) => {
    await withNetrpcServer([`--fault=${fault}`], async (port) => {
      const failed: string[] = [];
      for (const name of CASES) {
        const result = await runCase(name, target(port));
        if (result.status === 'failed') failed.push(name);
        expect(await runCase(name, target(port, { clientFault: 'no-checks' }))).toMatchObject({ case: name, status: 'passed' });
      }
      expect(failed).toEqual(broken);
    });
  });

  it('a failure names the call, the input, what was expected and what came', async () => {
    await withNetrpcServer(['--fault=reply-plus-two,panda-text,unknown-method-ok'], async (port) => {
      const error = async (name: string) => (await runCase(name, target(port))).error;
      expect(await error('netrpc_jsonrpc_getinfo')).toBe('JSON-RPC Panda.Getinfo(123): expected result 124 and error null, got {"id":1,"result":125,"error":null}');
      expect(await error('netrpc_jsonrpc_wraps')).toBe(
        'JSON-RPC Panda.Getinfo(9223372036854775807): expected result -9223372036854775808 and error null, got {"id":1,"result":-9223372036854775807,"error":null}',
      );
      expect(await error('netrpc_jsonrpc_unknown_method')).toBe(
        'JSON-RPC Panda.Nope(123): expected error "rpc: can\'t find method Panda.Nope" and a null result, got {"id":1,"result":125,"error":null}',
      );
      expect(await error('netrpc_jsonrpc_pipelined')).toBe(
        'JSON-RPC Panda.Getinfo(1099511627777), request id 1 of 16 pipelined: expected result 1099511627778 and error null, got {"id":1,"result":1099511627779,"error":null}',
      );
      expect(await error('netrpc_http_panda')).toBe(`GET http://127.0.0.1:${port}/panda: expected status 200 and body "panda", got status 200 and body "Panda"`);
      expect(await error('netrpc_jsonrpc_not_an_int')).toBeUndefined();
    });
  });
});

/** A loopback server that writes `answer` on each connection once it has read something (never, for null), byte by byte when split. */
async function withScriptedServer(answer: string | null, split: boolean, fn: (port: number) => Promise<void>): Promise<void> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    if (answer === null) return;
    socket.once('data', async () => {
      if (!split) return void socket.write(answer);
      for (const c of Buffer.from(answer)) {
        if (socket.destroyed) return;
        socket.write(Buffer.from([c]));
        await new Promise((r) => setTimeout(r, 1));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn((server.address() as { port: number }).port);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('JSON-RPC framing and exact integers', () => {
  it('JSON.parse would lose the integers beyond 2^53; lossless-json keeps them as BigInt', () => {
    expect(JSON.parse('{"result":9007199254740993}').result).toBe(9007199254740992);
    expect(parse('{"result":9007199254740993,"x":1.0}', null, parseNumberAndBigInt)).toEqual({ result: 9007199254740993n, x: 1 });
  });

  it.each([false, true])('answers are read as a stream (split byte by byte: %s), not one per read', async (split) => {
    const two = '{"id":1,"result":9007199254740994,"error":null}\n{"id":2,"result":-9223372036854775808,"error":null}\n';
    await withScriptedServer(two, split, async (port) => {
      const connection = await JsonRpcConnection.open('127.0.0.1', port, 5000);
      try {
        expect(connection.request('Panda.Getinfo', 2n ** 63n).text).toBe('{"method":"Panda.Getinfo","params":[9223372036854775808],"id":1}');
        const first = await connection.call('Panda.Getinfo', 9007199254740993n, 'x');
        const second = await connection.readAnswer(performance.now() + 5000);
        expect(first).toEqual({ value: { id: 1n, result: 9007199254740994n, error: null }, text: '{"id":1,"result":9007199254740994,"error":null}' });
        expect(second.value).toEqual({ id: 2n, result: -(2n ** 63n), error: null });
      } finally {
        connection.close();
      }
    });
  });

  it('a result written as 124.0 is not the integer 124', async () => {
    await withScriptedServer('{"id":1,"result":124.0,"error":null}\n', false, async (port) => {
      const result = await runCase('netrpc_jsonrpc_getinfo', target(port));
      expect(result.error).toBe('JSON-RPC Panda.Getinfo(123): expected result 124 and error null, got {"id":1,"result":124.0,"error":null}');
    });
  });

  it('a silent server fails every case at its deadline', async () => {
    await withScriptedServer(null, false, async (port) => {
      const started = performance.now();
      for (const name of CASES) {
        const result = await runCase(name, target(port, { rpcTimeoutMs: 300 }));
        expect(result).toMatchObject({ case: name, status: 'failed', error: expect.stringMatching(/deadline exceeded \(300 ms\)/) });
      }
      expect(performance.now() - started).toBeLessThan(10_000);
    });
  });

  it('no server: the case fails naming the connection', async () => {
    const port = await unusedPort();
    const result = await runCase('netrpc_jsonrpc_getinfo', target(port));
    expect(result.error).toMatch(new RegExp(`^JSON-RPC connection to 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
  });
});
