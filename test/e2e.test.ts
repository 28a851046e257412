/**
 * End to end: the real CLI, the real peers of all three languages, the whole seeds matrix.
 * Needs the build (npm test builds first).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../ts-common/src/paths.js';
import type { Results } from '../runner/src/results.js';
import { loadMatrix } from '../runner/src/config.js';
import { planCells } from '../runner/src/plan.js';

const root = repoRoot();
const cli = join(root, 'build/ts/runner/src/cli.js');
const matrix = (...args: string[]) => execa('node', [cli, ...args], { cwd: root, reject: false, all: true, env: { NO_COLOR: '1' } });

const OURS = ['ts', 'python', 'go'];
const CLASSIC = [
  'empty_unary', 'large_unary', 'client_streaming', 'server_streaming', 'ping_pong', 'empty_stream', 'cancel_after_begin',
  'cancel_after_first_response', 'timeout_on_sleeping_server', 'custom_metadata', 'status_code_and_message',
  'special_status_message', 'unimplemented_method', 'unimplemented_service',
];

// The default releases only: the other releases' pairings (--versions paired, the default) run in
// .ci/run's `npm run matrix` and, at a version boundary, in test/versions.test.ts.
describe('npm run matrix (the whole matrix of the default releases)', () => {
  let out: string;
  let results: Results;
  let exitCode: number | undefined;
  let output: string;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'matrix-e2e-'));
    const run = await matrix('--out', out, '--versions', 'default');
    exitCode = run.exitCode;
    output = run.all ?? '';
    results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
  }, 600_000);

  // `flaky` only comes from cells listed under `flaky` in matrix.yaml that passed on a retry.
  const ok = (c: { status: string }) => c.status === 'passed' || c.status === 'flaky';

  it('every cell is passed, a listed known failure or a listed flaky cell that passed on retry, and the run exits 0', () => {
    const bad = results.cells.filter((c) => !ok(c) && c.status !== 'known_failure').map((c) => `${c.id}: ${c.status}: ${c.error}`);
    expect(bad).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it('seeds: 16 pairings (ts, python, go, cpp) × 17 cases × 3 transports, all passed', () => {
    const seeds = results.cells.filter((c) => c.suite === 'seeds');
    expect(seeds).toHaveLength(16 * 17 * 3);
    expect(seeds.filter((c) => c.status !== 'passed')).toEqual([]);
  });

  it('grpc.testing: 5 clients × 5 servers × 18 cases × 3 transports; the 14 classic cases pass among ts, python and go', () => {
    const testing = results.cells.filter((c) => c.suite === 'grpc.testing');
    expect(testing).toHaveLength(5 * 5 * 18 * 3);
    const classicOurs = testing.filter((c) => CLASSIC.includes(c.case) && OURS.includes(c.client) && OURS.includes(c.server));
    expect(classicOurs).toHaveLength(9 * 14 * 3);
    expect(classicOurs.filter((c) => !ok(c)).map((c) => `${c.id}: ${c.error}`)).toEqual([]);
  });

  it('mtls turns away a client without a certificate, on every server of ours (ts, python, go, cpp), from every client', () => {
    const security = results.cells.filter((c) => c.suite === 'security' && [...OURS, 'cpp'].includes(c.server));
    expect(security).toHaveLength(4 * 4);
    expect(security.every((c) => c.status === 'passed')).toBe(true);
  });

  it('records the library version each running server reported', () => {
    expect(results.implementations.ts).toMatchObject({ language: 'typescript', library: 'grpc-js', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(results.implementations.python).toMatchObject({ language: 'python', library: 'grpcio', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(results.implementations.go).toMatchObject({ language: 'go', library: 'grpc-go', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(results.implementations['upstream-go']?.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('writes results.json in the SPEC §5 shape, junit.xml, and the grids', () => {
    expect(results.schema).toBe(1);
    expect(Date.parse(results.startedAt)).not.toBeNaN();
    const cell = results.cells.find((c) => c.id === 'ts→go/tls/seeds/greeter_say_hello');
    expect(cell).toMatchObject({ client: 'ts', server: 'go', transport: 'tls', suite: 'seeds', case: 'greeter_say_hello', status: 'passed', attempts: 1 });
    expect(readFileSync(join(root, cell!.log!), 'utf8')).toContain('greeter_say_hello');
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(results.cells.length);
    expect(output).toMatch(/seeds · mtls/);
    expect(output).toMatch(/grpc\.testing · tls/);
  });
});

// The opt-in lifecycle suite (seconds per case) is in no default run: its own run here, so that a
// clean pass of every pairing is checked as well as the self-test's faults.
describe('npm run matrix -- --suites lifecycle (the default releases, insecure)', () => {
  let results: Results;
  let exitCode: number | undefined;

  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), 'matrix-lifecycle-'));
    const run = await matrix('--out', out, '--versions', 'default', '--suites', 'lifecycle', '--transports', 'insecure');
    exitCode = run.exitCode;
    results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
  }, 600_000);

  it('every pairing of our four peers runs every lifecycle case, and every cell passes but the C++ client\'s listed known failures', () => {
    const cases = new Set(results.cells.map((c) => c.case));
    expect(cases.size).toBeGreaterThanOrEqual(9);
    expect(results.cells).toHaveLength(16 * cases.size);
    const notPassed = results.cells.filter((c) => c.status !== 'passed');
    // gRPC C++ 1.51 (matrix.yaml known_failures): restart_downtime against every server, max_connection_idle against grpc-go
    expect(notPassed.map((c) => `${c.id}: ${c.status}`).sort()).toEqual(
      ['cpp→cpp/insecure/lifecycle/restart_downtime', 'cpp→go/insecure/lifecycle/max_connection_idle', 'cpp→go/insecure/lifecycle/restart_downtime', 'cpp→python/insecure/lifecycle/restart_downtime', 'cpp→ts/insecure/lifecycle/restart_downtime'].map((id) => `${id}: known_failure`),
    );
    expect(exitCode).toBe(0);
  });
});

describe('the CLI contract', () => {
  it('exits 1 with the reason when a cell fails', async () => {
    const out = mkdtempSync(join(tmpdir(), 'matrix-e2e-'));
    const run = await matrix('--clients', 'ts', '--servers', 'go', '--grep', '/panda_getinfo$', '--server-fault', 'panda-float64', '--out', out);
    expect(run.exitCode).toBe(1);
    expect(run.all).toMatch(/ts→go\/insecure\/seeds\/panda_getinfo: Getinfo\{arg:9007199254740993\}: expected "9007199254740994", got "9007199254740992"/);
  }, 120_000);

  it('--list prints the planned cell ids', async () => {
    const run = await matrix('--list', '--versions', 'default', '--suites', 'seeds', '--clients', 'python', '--servers', 'ts', '--transports', 'insecure', '--grep', 'stream_');
    expect(run.exitCode).toBe(0);
    expect(run.all?.trim().split('\n')).toEqual(['python→ts/insecure/seeds/stream_server', 'python→ts/insecure/seeds/stream_client', 'python→ts/insecure/seeds/stream_bidi', 'python→ts/insecure/seeds/stream_server_max_count']);
    // Without --versions default, every release of python and ts takes part, paired with the defaults.
    const releases = await matrix('--list', '--suites', 'seeds', '--clients', 'python', '--servers', 'ts', '--transports', 'insecure', '--grep', 'stream_server$');
    expect(releases.all?.trim().split('\n')).toEqual([
      'python→ts/insecure/seeds/stream_server',
      'python@1.70.0→ts/insecure/seeds/stream_server',
      'python@1.62.3→ts/insecure/seeds/stream_server',
      'python→ts@1.10.11/insecure/seeds/stream_server',
      'python→ts@1.8.22/insecure/seeds/stream_server',
    ]);
  });

  it('--list prints every planned cell through a pipe, however long the list (not cut at the pipe buffer)', async () => {
    const run = await matrix('--list');
    expect(run.exitCode).toBe(0);
    const ids = run.stdout.trim().split('\n');
    expect(ids.length).toBe(planCells(loadMatrix(join(root, 'matrix.yaml'))).length);
    expect(ids.some((id) => id.includes('@'))).toBe(true); // other releases take part by default
    expect(ids.join('\n').length).toBeGreaterThan(256 * 1024);
  });

  it.each([
    [['--clients', 'rust'], /unknown client "rust"; available: ts, python, go/],
    [['--grep', '('], /--grep: not a regular expression/],
    [['--jobs', 'zero'], /--jobs/],
  ])('exits 2 on bad options %j', async (args, message) => {
    const run = await matrix(...args, '--list');
    expect(run.exitCode).toBe(2);
    expect(run.all).toMatch(message);
  });
});
