/**
 * A peer that crashes becomes failed cells with a reason and its log; the run goes on, writes its
 * results, and leaves no process behind.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../ts-common/src/paths.js';
import type { Results } from '../runner/src/results.js';

const root = repoRoot();
const TS_SERVER = '[node, build/ts/ts-server/src/main.js]';
const TS_CLIENT = '[node, build/ts/ts-client/src/main.js]';

async function runWith(implementations: string, args: string[] = [], extra = '', expectResults = true): Promise<{ exitCode: number | undefined; results: Results; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'matrix-robust-'));
  const config = join(dir, 'matrix.yaml');
  writeFileSync(
    config,
    `implementations:\n${implementations}\nsuites:\n  seeds:\n    cases: [greeter_say_hello, helloworld_service]\ntransports:\n  insecure: {}\n${extra}`,
  );
  const run = await execa('node', ['build/ts/runner/src/cli.js', '--config', config, '--out', join(dir, 'out'), ...args], { cwd: root, reject: false, all: true, env: { NO_COLOR: '1' } });
  if (!expectResults) return { exitCode: run.exitCode, results: { schema: 1, startedAt: '', durationMs: 0, implementations: {}, cells: [] }, output: run.all ?? '' };
  expect(run.exitCode === 0 || run.exitCode === 1 ? '' : run.all).toBe('');
  const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results;
  return { exitCode: run.exitCode, results, output: run.all ?? '' };
}

const byId = (r: Results) => Object.fromEntries(r.cells.map((c) => [c.id, c]));

describe('robustness', () => {
  it('a server that crashes at start fails its cells with its log; other servers still run', async () => {
    const { exitCode, results } = await runWith(`  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}, client: ${TS_CLIENT}, batch: true}
  crashy: {language: sh, library: none, server: [sh, -c, "echo cannot bind, giving up >&2; exit 3"]}`);
    const cells = byId(results);
    expect(cells['ts→crashy/insecure/seeds/greeter_say_hello']).toMatchObject({ status: 'failed', error: expect.stringMatching(/failed to start: the server exited with code 3 before listening[\s\S]*cannot bind, giving up/) });
    expect(cells['ts→ts/insecure/seeds/greeter_say_hello']?.status).toBe('passed');
    expect(exitCode).toBe(1);
  }, 60_000);

  it('a batch client that dies mid-run keeps the cases it reported and fails the rest', async () => {
    const line = '{"case":"greeter_say_hello","status":"passed","ms":1}';
    const { results } = await runWith(`  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}}
  dying: {language: sh, library: none, client: [sh, -c, 'echo ''${line}''; echo segfault >&2; exit 9', client], batch: true}`);
    const cells = byId(results);
    expect(cells['dying→ts/insecure/seeds/greeter_say_hello']?.status).toBe('passed');
    expect(cells['dying→ts/insecure/seeds/helloworld_service']).toMatchObject({ status: 'failed', error: expect.stringMatching(/client exited with code 9 without reporting this case[\s\S]*segfault/) });
  }, 60_000);

  it('a client on the upstream contract (no JSON) is judged per case by its exit code', async () => {
    const { results } = await runWith(`  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}}
  upstream: {language: sh, library: none, client: [sh, -c, 'case "$*" in *greeter_say_hello*) exit 0;; *) echo "no such case" >&2; exit 1;; esac', client]}`);
    const cells = byId(results);
    expect(cells['upstream→ts/insecure/seeds/greeter_say_hello']?.status).toBe('passed');
    expect(cells['upstream→ts/insecure/seeds/helloworld_service']).toMatchObject({ status: 'failed', error: expect.stringMatching(/exited with code 1[\s\S]*no such case/) });
  }, 60_000);

  it('a listed flaky cell that passes on a retry is flaky, and fails the run only with --fail-on-flaky', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'flaky-')), 'tried');
    const impls = `  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}}
  wobbly: {language: sh, library: none, client: [sh, -c, 'case "$*" in *helloworld_service*) exit 0;; esac; [ -e ${marker} ] && exit 0; touch ${marker}; echo first try fails >&2; exit 1', client]}`;
    const flaky = 'flaky:\n  - cell: "wobbly→ts/insecure/seeds/greeter_say_hello"\n    reason: fails on its first try\n';
    const first = await runWith(impls, [], flaky);
    expect(byId(first.results)['wobbly→ts/insecure/seeds/greeter_say_hello']).toMatchObject({ status: 'flaky', attempts: 2, error: expect.stringMatching(/passed on attempt 2; attempt 1 failed: [\s\S]*first try fails/) });
    expect(first.exitCode).toBe(0);
    rmSync(marker);
    const strict = await runWith(impls, ['--fail-on-flaky'], flaky);
    expect(byId(strict.results)['wobbly→ts/insecure/seeds/greeter_say_hello']?.status).toBe('flaky');
    expect(strict.exitCode).toBe(1);
    rmSync(marker);
    const unlisted = await runWith(impls);
    expect(byId(unlisted.results)['wobbly→ts/insecure/seeds/greeter_say_hello']).toMatchObject({ status: 'failed', attempts: 1 });
    rmSync(marker);
    const retried = await runWith(impls, ['--retries', '1']);
    expect(byId(retried.results)['wobbly→ts/insecure/seeds/greeter_say_hello']).toMatchObject({ status: 'flaky', attempts: 2 });
  }, 60_000);

  it('a known failure that starts passing is an unexpected pass and fails the run', async () => {
    const known = 'known_failures:\n  - cell: "ts→ts/insecure/seeds/helloworld_service"\n    reason: thought broken\n';
    const { exitCode, results, output } = await runWith(`  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}, client: ${TS_CLIENT}, batch: true}`, [], known);
    expect(byId(results)['ts→ts/insecure/seeds/helloworld_service']).toMatchObject({ status: 'unexpected_pass', error: expect.stringMatching(/thought broken.*remove it from known_failures/) });
    expect(byId(results)['ts→ts/insecure/seeds/greeter_say_hello']?.status).toBe('passed');
    expect(output).toMatch(/1 unexpected pass/);
    expect(exitCode).toBe(1);
  }, 60_000);

  it('a known_failures or flaky pattern that matches no cell is an error (exit 2) naming it', async () => {
    const stale = 'known_failures:\n  - cell: "ts→ts/insecure/seeds/no_such_case"\n    reason: stale\n';
    const { exitCode, output } = await runWith(`  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}, client: ${TS_CLIENT}, batch: true}`, [], stale, false);
    expect(exitCode).toBe(2);
    expect(output).toMatch(/known_failures: the pattern "ts→ts\/insecure\/seeds\/no_such_case" matches no cell/);
  }, 60_000);

  it('leaves no process behind, even one a server started in the background', async () => {
    const marker = '301.25';
    const { results } = await runWith(`  ts: {language: typescript, library: grpc-js, client: ${TS_CLIENT}, batch: true}
  forking: {language: sh, library: none, server: [sh, -c, 'sleep ${marker} & exec node build/ts/ts-server/src/main.js "$@"', server]}`);
    expect(results.cells.every((c) => c.status === 'passed')).toBe(true);
    const ps = await execa('ps', ['-eo', 'args']);
    expect(ps.stdout.split('\n').filter((l) => l.includes(`sleep ${marker}`))).toEqual([]);
  }, 60_000);
});
