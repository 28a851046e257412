/**
 * The TypeScript peers on an older @grpc/grpc-js (scripts/ts-version.mjs): built for 1.8.0, the
 * oldest release the peers support, the server must serve (health SERVING, ServerInfo reporting
 * 1.8.0) and the client must pass cases against it, so that a regression in the shims of
 * ts-common/src/grpc-compat.ts (e.g. a lost `server.start()`, without which a 1.8 server refuses
 * every call) is caught. Needs the default build (build/ts) and, the first time, the npm registry.
 * `--add` (pinning a release in interop/ts-versions) too: it refuses malformed and unpublished
 * versions, and refreshes 1.8.0 in place (needs the npm registry).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { execa, type ResultPromise } from 'execa';
import { loadProtos } from '../ts-common/src/proto.js';
import { repoRoot } from '../ts-common/src/paths.js';
import { startListening } from './helpers/peer.js';

const root = repoRoot();
const VERSION = '1.8.0';
const dir = join(root, 'build', 'versions', 'ts', VERSION);
const started: ResultPromise[] = [];

/** Starts the versioned server with --port=0; resolves to the port of its listening line. */
function startServer(): Promise<number> {
  return startListening('node', [join(dir, 'ts-server', 'src', 'main.js')], started, `the ${VERSION} server`);
}

const deadline = () => ({ deadline: Date.now() + 10_000 });

function unary<T>(call: (cb: (err: grpc.ServiceError | null, reply?: T) => void) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    call((err, reply) => (err ? reject(new Error(`${grpc.status[err.code]}: ${err.details}`)) : resolve(reply as T)));
  });
}

describe(`TypeScript peers on @grpc/grpc-js ${VERSION}`, () => {
  beforeAll(async () => {
    // npm ci the first time (the registry), then a quick copy of the compiled peers.
    const build = await execa('node', ['scripts/ts-version.mjs', VERSION], { cwd: root, reject: false, all: true, timeout: 240_000 });
    if (build.exitCode !== 0) throw new Error(`scripts/ts-version.mjs ${VERSION} failed (${build.exitCode ?? build.signal}):\n${build.all}`);
  }, 250_000);

  afterAll(async () => {
    for (const server of started) server.kill();
    await Promise.all(started);
  });

  it('resolves @grpc/grpc-js to the pinned release from its folder, everything else from the repository', async () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', '@grpc', 'grpc-js', 'package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toBe(VERSION);
    const probe = await execa(
      'node',
      ['-e', "console.log(require('@grpc/grpc-js/package.json').version, require.resolve('@grpc/proto-loader'))"],
      { cwd: join(dir, 'ts-server', 'src') },
    );
    expect(probe.stdout.trim()).toBe(`${VERSION} ${join(root, 'node_modules', '@grpc', 'proto-loader', 'build', 'src', 'index.js')}`);
    expect(existsSync(join(dir, 'protos'))).toBe(false);
    expect(existsSync(join(dir, 'package.json'))).toBe(false); // would make the compiled ES modules CommonJS
  });

  it('the server serves: health SERVING, ServerInfo reports the pinned release', async () => {
    const port = await startServer();
    const p = loadProtos();
    const address = `127.0.0.1:${port}`;
    const health = new p.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
    const info = new p.interop.ServerInfo(address, grpc.credentials.createInsecure());
    try {
      expect(await unary((cb) => health.Check({ service: '' }, deadline(), cb))).toEqual({ status: 'SERVING' });
      expect(await unary((cb) => health.Check({ service: 'interop.ServerInfo' }, deadline(), cb))).toEqual({ status: 'SERVING' });
      expect(await unary((cb) => info.GetInfo({}, deadline(), cb))).toMatchObject({ implementation: 'grpc-js', version: VERSION });
    } finally {
      health.close();
      info.close();
    }
  });

  it('the client passes cases against the versioned server', async () => {
    const port = await startServer();
    const cases = ['greeter_say_hello', 'stream_bidi', 'server_info_version', 'health_unknown_service', 'status_code_and_message', 'custom_metadata', 'cancel_after_first_response', 'timeout_on_sleeping_server'];
    const client = await execa('node', [join(dir, 'ts-client', 'src', 'main.js'), `--server_port=${port}`, `--test_case=${cases.join(',')}`], {
      cwd: root,
      reject: false,
      timeout: 60_000,
    });
    const results = client.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { case: string; status: string; error?: string; observed?: { version?: string } });
    expect(results.map((r) => `${r.case}: ${r.status}${r.error ? ` (${r.error})` : ''}`)).toEqual(cases.map((c) => `${c}: passed`));
    expect(results.find((r) => r.case === 'server_info_version')?.observed?.version).toBe(VERSION);
    expect(client.exitCode).toBe(0);
  }, 90_000);

  it('names the missing folder of a version that has none, in one line', async () => {
    const result = await execa('node', ['scripts/ts-version.mjs', '0.0.1'], { cwd: root, reject: false });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^ts-version: no interop\/ts-versions\/0\.0\.1: add it with /);
  });
});

describe('scripts/ts-version.mjs --add', () => {
  const versionsDir = join(root, 'interop', 'ts-versions');
  const listing = () => readdirSync(versionsDir).sort();
  const leftovers = (v: string) => readdirSync(tmpdir()).filter((name) => name.startsWith(`ts-version-${v}-`));

  it.each([
    ['1.8', /^ts-version: --add needs an exact semver release such as 1\.12\.6, not "1\.8"$/],
    ['v1.8.0', /^ts-version: --add needs an exact semver release such as 1\.12\.6, not "v1\.8\.0"$/],
    ['9.9.9', /^ts-version: @grpc\/grpc-js has no release 9\.9\.9 on the registry$/],
  ])('refuses %s with exit 2 and one line, creating nothing', async (version, message) => {
    const before = listing();
    const result = await execa('node', ['scripts/ts-version.mjs', '--add', version], { cwd: root, reject: false, timeout: 60_000 });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
    expect(existsSync(join(versionsDir, version))).toBe(false);
    expect(listing()).toEqual(before);
    expect(leftovers(version)).toEqual([]);
  }, 60_000);

  it(`refreshes an existing folder (${VERSION}): package.json byte-identical, the lock regenerated`, async () => {
    const folder = join(versionsDir, VERSION);
    const pkgBefore = readFileSync(join(folder, 'package.json'));
    const lockBefore = readFileSync(join(folder, 'package-lock.json'));
    const before = listing();
    try {
      const result = await execa('node', ['scripts/ts-version.mjs', '--add', VERSION], { cwd: root, reject: false, timeout: 120_000 });
      expect(result.stderr.trim()).toBe(`ts-version: interop/ts-versions/${VERSION} exists: rewriting package.json and regenerating package-lock.json`);
      expect(result.stdout).toBe(`ts-version: pinned @grpc/grpc-js ${VERSION} in interop/ts-versions/${VERSION} (package.json, package-lock.json)`); // execa strips the final newline
      expect(result.exitCode).toBe(0);
      expect(readFileSync(join(folder, 'package.json')).equals(pkgBefore)).toBe(true);
      const lock = JSON.parse(readFileSync(join(folder, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
      };
      expect(lock.packages['node_modules/@grpc/grpc-js']?.version).toBe(VERSION);
      expect(lock.packages['']?.dependencies).toEqual({ '@grpc/grpc-js': VERSION });
      expect(readdirSync(folder).sort()).toEqual(['package-lock.json', 'package.json']); // no temporary files left
      expect(listing()).toEqual(before);
      expect(leftovers(VERSION)).toEqual([]);
    } finally {
      // The committed files, as they were (the regenerated lock may differ once newer transitive
      // releases exist; the repository keeps its pins).
      if (!readFileSync(join(folder, 'package.json')).equals(pkgBefore)) writeFileSync(join(folder, 'package.json'), pkgBefore);
      if (!readFileSync(join(folder, 'package-lock.json')).equals(lockBefore)) writeFileSync(join(folder, 'package-lock.json'), lockBefore);
    }
  }, 120_000);
});
