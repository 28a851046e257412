/**
 * The server binary's extra listeners (docs/peer-contract.md, --ipv6_loopback and --unix_socket),
 * started as the runner starts it (needs the build, like the tests of test/). Calls go through
 * the generic executor's channel.target, so grpc-js's own resolvers parse each target.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { repoRoot } from '../../ts-common/src/paths.js';
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
