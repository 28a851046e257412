/**
 * The server binary's extra listeners (docs/peer-contract.md, --ipv6_loopback, --second_host and
 * --unix_socket), started as the runner starts it (needs the build, like the tests of test/).
 * Calls go through the generic executor's channel.target, so grpc-js's own resolvers parse each
 * target.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { execa, type ResultPromise } from 'execa';
import { repoRoot } from '../../ts-common/src/paths.js';
import { loadProtos } from '../../ts-common/src/proto.js';
import { unary } from '../../ts-client/src/rpc.js';
import { runScripted } from '../../ts-client/src/scripted.js';
import { startListening } from '../../test/helpers/peer.js';

const SERVER = 'build/ts/ts-server/src/main.js';
const server = (...args: string[]) => execa('node', [SERVER, ...args], { cwd: repoRoot(), reject: false, stdin: 'ignore', timeout: 30_000 });

let dir = '';
const started: ResultPromise[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-listeners-'));
});

afterEach(async () => {
  for (const s of started.splice(0)) {
    s.kill('SIGTERM');
    await s;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('--ipv6_loopback=true --unix_socket=PATH', () => {
  it('one server answers on 127.0.0.1, [::1] at the same port and the Unix socket; RequestInfo says which', async () => {
    const unixSocket = join(dir, 'server.sock');
    const port = await startListening('node', [SERVER, '--ipv6_loopback=true', `--unix_socket=${unixSocket}`], started);
    const target = { host: '127.0.0.1', port, rpcTimeoutMs: 5000, unixSocket };
    const through = async (channelTarget: string) => {
      const result = await runScripted('t', { method: 'Unary', requests: [{}], channel: { target: channelTarget } }, target);
      const observed = result.observed as { status: { code: number }; responses: Array<{ request_info: { authority?: string; peer?: string } }> };
      expect(observed.status.code).toBe(0);
      const { authority, peer } = observed.responses[0]!.request_info;
      return { authority, peer };
    };
    expect(await through('{host}:{port}')).toEqual({ authority: `127.0.0.1:${port}`, peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(await through('ipv6:[::1]:{port}')).toEqual({ authority: `[::1]:${port}`, peer: expect.stringMatching(/^::1:\d+$/) });
    expect(await through('unix:{unix_socket}')).toEqual({ authority: 'localhost', peer: 'unknown' });
    expect(await through(`unix://${unixSocket}`)).toEqual({ authority: 'localhost', peer: 'unknown' });
  });

  it('a port taken on [::1] is a start-up failure (exit 1)', async () => {
    const taken: Server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      taken.once('error', reject);
      taken.listen(0, '::1', () => resolve((taken.address() as { port: number }).port));
    });
    try {
      const run = await server(`--port=${port}`, '--ipv6_loopback=true');
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/address already in use/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it.each([
    [['--workers=2', '--ipv6_loopback=true'], /--ipv6_loopback cannot be combined with --workers=2/],
    [['--workers=2', '--second_host=127.0.0.2'], /--second_host cannot be combined with --workers=2/],
    [['--second_host='], /--second_host.*expected an IPv4 address/],
    [['--workers=3', '--unix_socket=/nonexistent/s.sock'], /--unix_socket cannot be combined with --workers=3/],
    [['--ipv6_loopback=yes'], /--ipv6_loopback.*expected true or false/],
    [['--unix_socket='], /--unix_socket.*expected a path/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const run = await server('--port=0', ...args);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });
});

/** A server listening on 127.0.0.1 and 127.0.0.2 (one port) is dialled through both. */
describe('--second_host=127.0.0.2', () => {
  /** How an OK-scripted unary call through `channelTarget` ended, and the :authority the server saw. */
  const through = async (port: number, channelTarget: string) => {
    const result = await runScripted('t', { method: 'Unary', requests: [{}], channel: { target: channelTarget } }, { host: '127.0.0.1', port, rpcTimeoutMs: 5000 });
    const observed = result.observed as { status: { code: number }; responses?: Array<{ request_info: { authority?: string } }> };
    return { code: observed.status.code, authority: observed.responses?.[0]?.request_info.authority };
  };

  it('the server also answers on 127.0.0.2, at the port it bound for --host (--port=0: the ephemeral one)', async () => {
    const port = await startListening('node', [SERVER, '--second_host=127.0.0.2'], started);
    expect(await through(port, '{host}:{port}')).toEqual({ code: grpc.status.OK, authority: `127.0.0.1:${port}` });
    expect(await through(port, 'ipv4:127.0.0.2:{port}')).toEqual({ code: grpc.status.OK, authority: `127.0.0.2:${port}` });
  });

  it('scripted-second-host-ignored: it does not listen there (UNAVAILABLE), --host still answers', async () => {
    const port = await startListening('node', [SERVER, '--second_host=127.0.0.2', '--fault=scripted-second-host-ignored'], started);
    expect(await through(port, '{host}:{port}')).toMatchObject({ code: grpc.status.OK });
    expect(await through(port, 'ipv4:127.0.0.2:{port}')).toEqual({ code: grpc.status.UNAVAILABLE, authority: undefined });
  });

  it('a scripted restart listens there again, with the health statuses set before it (per process)', async () => {
    const port = await startListening('node', [SERVER, '--second_host=127.0.0.2'], started);
    const p = loadProtos();
    const address = `127.0.0.2:${port}`;
    const service = `interop.watched.${randomBytes(8).toString('hex')}`;
    const scripted = new p.interop.scripted.Scripted(address, grpc.credentials.createInsecure());
    try {
      const script = { set_health: [{ service, status: 'NOT_SERVING' }], restart_server_after_ms: 100 };
      await unary((cb) => scripted.Unary({ script }, { deadline: Date.now() + 5000 }, cb));
    } finally {
      scripted.close();
    }
    // The old server stopped listening when the restart began: a new connection (waitForReady
    // through the refusals until then) reaches the new server.
    const health = new p.grpc.health.v1.Health(address, grpc.credentials.createInsecure(), { 'grpc.primary_user_agent': 'after-restart' });
    try {
      const reply = await unary((cb) => health.Check({ service }, new grpc.Metadata({ waitForReady: true }), { deadline: Date.now() + 20_000 }, cb));
      expect(reply).toEqual({ status: 'NOT_SERVING' });
    } finally {
      health.close();
    }
  });

  it('a port taken on 127.0.0.2 is a start-up failure (exit 1)', async () => {
    const taken: Server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      taken.once('error', reject);
      taken.listen(0, '127.0.0.2', () => resolve((taken.address() as { port: number }).port));
    });
    try {
      const run = await server(`--port=${port}`, '--second_host=127.0.0.2');
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.2:${port}: .*address already in use`));
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
