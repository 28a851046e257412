/**
 * Whatever a peer does — crash at start or mid-stream, hang, never answer — it becomes failed
 * cells with a reason and a log tail; the run goes on, writes its results, and leaves no process
 * behind. Every run here carries a unique environment tag, which every process it starts
 * inherits: after the run, no process on the machine may carry it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Results } from '../runner/src/results.js';
import { CASES, configFile, shClient, start, survivors, TS, TS_CLIENT, TS_SERVER } from './helpers/cli.js';

async function runWith(
  implementations: string,
  args: string[] = [],
  extra = '',
  expectResults = true,
  cases = CASES,
): Promise<{ exitCode: number | undefined; results: Results; output: string; ms: number; left: string[] }> {
  const { dir, config } = configFile(implementations, extra, cases);
  const began = Date.now();
  const { run: running, tag } = start(config, join(dir, 'out'), args);
  const run = await running;
  const ms = Date.now() - began;
  const left = survivors(tag);
  if (!expectResults) return { exitCode: run.exitCode, results: { schema: 1, startedAt: '', durationMs: 0, implementations: {}, cells: [] }, output: run.all ?? '', ms, left };
  expect(run.exitCode === 0 || run.exitCode === 1 ? '' : run.all).toBe('');
  const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results;
  return { exitCode: run.exitCode, results, output: run.all ?? '', ms, left };
}

const byId = (r: Results) => Object.fromEntries(r.cells.map((c) => [c.id, c]));

describe('robustness', () => {
  it('a server that crashes at start fails its cells with its log; other servers still run', async () => {
    const { exitCode, results, left } = await runWith(`  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}, client: ${TS_CLIENT}, batch: true}
  crashy: {language: sh, library: none, server: [sh, -c, "echo cannot bind, giving up >&2; exit 3"]}`);
    const cells = byId(results);
    expect(cells['ts→crashy/insecure/seeds/greeter_say_hello']).toMatchObject({ status: 'failed', error: expect.stringMatching(/failed to start: the server exited with code 3 before listening[\s\S]*cannot bind, giving up/) });
    expect(cells['ts→ts/insecure/seeds/greeter_say_hello']?.status).toBe('passed');
    expect(exitCode).toBe(1);
    expect(left).toEqual([]);
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

  it('a known failure that fails is not run again, even where a flaky pattern covers it', async () => {
    const impls = `  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}}
  broken: {language: sh, library: none, client: [sh, -c, 'echo always fails >&2; exit 1', client]}`;
    const lists = 'known_failures:\n  - cell: "broken→ts/insecure/seeds/greeter_say_hello"\n    reason: always broken\nflaky:\n  - cell: "broken→ts/insecure/seeds/*"\n    reason: racy\n';
    const { results } = await runWith(impls, [], lists);
    expect(byId(results)['broken→ts/insecure/seeds/greeter_say_hello']).toMatchObject({ status: 'known_failure', attempts: 1 });
    expect(byId(results)['broken→ts/insecure/seeds/helloworld_service']).toMatchObject({ status: 'failed', attempts: 3 });
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
    const stale = 'known_failures:\n  - cell: "ts→ts/insecure/seeds/no_such_*"\n    reason: stale\n';
    const { exitCode, output } = await runWith(`  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}, client: ${TS_CLIENT}, batch: true}`, [], stale, false);
    expect(exitCode).toBe(2);
    expect(output).toMatch(/matrix\.yaml:\d+: known_failures\[0\]\.cell: the pattern "ts→ts\/insecure\/seeds\/no_such_\*" matches no cell/);
  }, 60_000);

  it('leaves no process behind, even one a server started in the background', async () => {
    const { results, left } = await runWith(`  ts: {language: typescript, library: grpc-js, client: ${TS_CLIENT}, batch: true}
  forking: {language: sh, library: none, server: [sh, -c, 'sleep 301.25 & exec node build/ts/ts-server/src/main.js "$@"', server]}`);
    expect(results.cells.every((c) => c.status === 'passed')).toBe(true);
    expect(left).toEqual([]);
  }, 60_000);

  const THREE = '[greeter_say_hello, stream_server, helloworld_service]';
  const FAST = 'timeouts: {client_start_ms: 2000, case_ms: 3000, health_check_ms: 1000}\n';

  it('a server that crashes mid-stream fails the case in flight; it is started again for the cells after it, twice at most; the other server still runs', async () => {
    const { exitCode, results, output, left } = await runWith(`${TS}
  second: {language: typescript, library: grpc-js, client: ${TS_CLIENT}, batch: true}
  third: {language: typescript, library: grpc-js, client: ${TS_CLIENT}, batch: true}
  crashing: {language: typescript, library: grpc-js, server: [node, build/ts/ts-server/src/main.js, --fault=crash-mid-stream]}`, ['--jobs', '1'], FAST, true, THREE);
    const cells = byId(results);
    const crashed = /server crashing exited with code 70 during the run[\s\S]*crash-mid-stream: exiting/;
    // Each client's stream_server crashes the server; the first two crashes are followed by a restart.
    for (const client of ['ts', 'second', 'third']) {
      const hello = cells[`${client}→crashing/insecure/seeds/greeter_say_hello`];
      expect([client, hello?.status, hello?.error]).toEqual([client, 'passed', undefined]);
      expect(cells[`${client}→crashing/insecure/seeds/stream_server`]).toMatchObject({ status: 'failed', error: expect.stringMatching(crashed) });
    }
    expect(cells['ts→crashing/insecure/seeds/helloworld_service']?.status).toBe('passed');
    expect(cells['second→crashing/insecure/seeds/helloworld_service']?.status).toBe('passed');
    // The third crash is one too many: the cell after it fails with the crash's reason.
    expect(cells['third→crashing/insecure/seeds/helloworld_service']).toMatchObject({ status: 'failed', error: expect.stringMatching(crashed) });
    expect(results.cells.filter((c) => c.server === 'ts').every((c) => c.status === 'passed')).toBe(true);
    expect(output).toMatch(/4 failed/);
    expect(exitCode).toBe(1);
    expect(left).toEqual([]);
  }, 90_000);

  it('a server that crashes after other cases of the batch failed: each failed case runs again alone, and only the one that takes the server down again is blamed', async () => {
    const { results, left } = await runWith(`  ts: {language: typescript, library: grpc-js, client: ${TS_CLIENT}, batch: true}
  crashing: {language: typescript, library: grpc-js, server: [node, build/ts/ts-server/src/main.js, '--fault=greeting-punctuation,crash-mid-stream']}`, ['--jobs', '1'], FAST, true, THREE);
    const cells = byId(results);
    const crashed = /server crashing exited with code 70 during the run[\s\S]*crash-mid-stream: exiting/;
    expect(cells['ts→crashing/insecure/seeds/greeter_say_hello']).toMatchObject({ status: 'failed', error: expect.stringMatching(/Hello, world/) });
    expect(cells['ts→crashing/insecure/seeds/greeter_say_hello']?.error).not.toMatch(crashed);
    expect(cells['ts→crashing/insecure/seeds/stream_server']).toMatchObject({ status: 'failed', error: expect.stringMatching(crashed) });
    expect(cells['ts→crashing/insecure/seeds/helloworld_service']?.status).toBe('passed');
    expect(left).toEqual([]);
  }, 90_000);

  it('a server that stops answering fails the case in flight without waiting out every deadline, and is started again for the cells after it', async () => {
    const { results, left } = await runWith(`${TS}
  hanging: {language: typescript, library: grpc-js, server: [node, build/ts/ts-server/src/main.js, --fault=hang-mid-stream]}
  second: {language: typescript, library: grpc-js, client: ${TS_CLIENT}, batch: true}`, ['--jobs', '1'], FAST, true, THREE);
    const cells = byId(results);
    const hung = /server hanging stopped answering: its health check got no SERVING reply within 1000 ms[\s\S]*hang-mid-stream: stopping/;
    for (const client of ['ts', 'second']) {
      expect(cells[`${client}→hanging/insecure/seeds/greeter_say_hello`]?.status).toBe('passed');
      expect(cells[`${client}→hanging/insecure/seeds/stream_server`]).toMatchObject({ status: 'failed', error: expect.stringMatching(/no result for case stream_server within 3000 ms/) });
      expect(cells[`${client}→hanging/insecure/seeds/stream_server`]?.error).toMatch(hung);
      expect(cells[`${client}→hanging/insecure/seeds/helloworld_service`]?.status).toBe('passed');
    }
    expect(results.cells.filter((c) => c.server === 'ts').every((c) => c.status === 'passed')).toBe(true);
    expect(left).toEqual([]);
  }, 90_000);

  it('a client that hangs is killed at the case deadline; the cases after it run in a fresh process', async () => {
    const hangOn = shClient('[ $c = stream_server ] && exec sleep 301.5; PASS');
    const { results, left } = await runWith(`${TS}
  hangs: {language: sh, library: none, batch: true, client: [sh, -c, '${hangOn}', client]}`, [], FAST, true, THREE);
    const cells = byId(results);
    expect(cells['hangs→ts/insecure/seeds/greeter_say_hello']?.status).toBe('passed');
    expect(cells['hangs→ts/insecure/seeds/stream_server']).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/client killed after \d+ ms: no result for case stream_server within 3000 ms[\s\S]*killed by SIGTERM/),
    });
    expect(cells['hangs→ts/insecure/seeds/helloworld_service']).toMatchObject({ status: 'passed', log: expect.stringMatching(/client-hangs\.part2\.log$/) });
    expect(left).toEqual([]);
  }, 60_000);

  it.each(['SIGINT', 'SIGTERM'] as const)('%s during a run stops every peer, writes the cells so far and exits 128+n', async (signal) => {
    // A slow client keeps the run busy; the signal comes once its first case is in.
    const slow = shClient('PASS; sleep 30');
    const { dir, config } = configFile(`${TS}
  slow: {language: sh, library: none, batch: true, client: [sh, -c, '${slow}', client]}`, 'timeouts: {case_ms: 60000}\n', THREE);
    const out = join(dir, 'out');
    const { run, tag } = start(config, out, ['--jobs', '1']);
    const firstLog = join(out, 'logs', 'ts', 'insecure', 'client-slow.log');
    for (let i = 0; i < 300 && !(existsSync(firstLog) && readFileSync(firstLog, 'utf8').includes('"case"')); i++) await new Promise((r) => setTimeout(r, 100));
    expect(survivors(tag).length).toBeGreaterThan(1); // the runner and its peers are running
    run.kill(signal);
    const result = await run;
    expect(result.exitCode).toBe(signal === 'SIGINT' ? 130 : 143);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    const statuses = Object.fromEntries(results.cells.map((c) => [c.id, c.status]));
    expect(statuses['ts→ts/insecure/seeds/greeter_say_hello']).toBe('passed');
    // The run says it did not finish, and the cells it never finished are not run, not failed.
    expect(results.incomplete).toEqual({ reason: `interrupted by ${signal}`, notRun: 3 });
    expect(results.cells).toHaveLength(6);
    for (const name of ['greeter_say_hello', 'stream_server', 'helloworld_service']) expect(statuses[`slow→ts/insecure/seeds/${name}`]).toBe('not_run');
    expect(results.cells.some((c) => c.status === 'failed')).toBe(false);
    // Every report says so; the terminal prints no failure for the peers the stop killed.
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toMatch(/<error[^>]*message="INCOMPLETE RUN — interrupted by SIG/);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/INCOMPLETE RUN — interrupted by SIG/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/INCOMPLETE RUN/);
    expect(result.all).toMatch(/INCOMPLETE RUN — interrupted by SIG\w+: 3 of 6 planned cells not run/);
    expect(result.all).not.toMatch(/✗/);
    expect(survivors(tag)).toEqual([]);
  }, 60_000);

  it('--no-batch runs one client process per case, with the same results', async () => {
    const batched = await runWith(TS, [], '', true, THREE);
    const single = await runWith(TS, ['--no-batch'], '', true, THREE);
    const statuses = (r: Results) => r.cells.map((c) => `${c.id} ${c.status}`);
    expect(statuses(single.results)).toEqual(statuses(batched.results));
    expect(batched.results.timings).toMatchObject({ clientRuns: 1, serverStarts: 1 });
    expect(single.results.timings).toMatchObject({ clientRuns: 3, serverStarts: 1 });
    expect(new Set(single.results.cells.map((c) => c.log)).size).toBe(3);
  }, 60_000);

  it('a server whose chosen port was taken meanwhile is started again on another port', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'port-')), 'tried');
    const { results, left } = await runWith(`${TS}
  portserver: {language: sh, library: none, listening: port, readiness: tcp, server: [sh, -c, '[ -e ${marker} ] || { touch ${marker}; echo "listen tcp :$1: bind: address already in use" >&2; exit 1; }; exec node build/ts/ts-server/src/main.js "$@"', server]}`);
    expect(results.cells.filter((c) => c.server === 'portserver').map((c) => c.status)).toEqual(['passed', 'passed']);
    expect(existsSync(marker)).toBe(true);
    expect(left).toEqual([]);
  }, 60_000);

  it('two runs at once: separate --out folders both complete; the same --out is refused with a clear error', async () => {
    const a = configFile(TS, '', THREE);
    const b = configFile(TS, '', THREE);
    const first = start(a.config, join(a.dir, 'out'));
    const second = start(b.config, join(b.dir, 'out'));
    const [r1, r2] = await Promise.all([first.run, second.run]);
    expect([r1.exitCode, r2.exitCode]).toEqual([0, 0]);
    for (const dir of [a.dir, b.dir]) expect((JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results).cells).toHaveLength(3);

    const slow = `sleep 5; ${shClient('PASS')}`;
    const busy = configFile(`${TS}\n  slow: {language: sh, library: none, batch: true, client: [sh, -c, '${slow}', client]}`);
    const shared = join(busy.dir, 'out');
    const holder = start(busy.config, shared);
    for (let i = 0; i < 300 && !existsSync(join(shared, '.matrix.lock')); i++) await new Promise((r) => setTimeout(r, 50));
    const refused = await start(busy.config, shared).run;
    expect(refused.exitCode).toBe(2);
    expect(refused.all).toMatch(new RegExp(`another matrix run is writing to ${shared}; wait for it to finish, or give this run its own --out DIR`));
    expect((await holder.run).exitCode).toBe(0);
    expect(survivors(holder.tag)).toEqual([]);
  }, 90_000);

  it('a client command that is missing or not executable fails that client\'s cells with the reason; everything else runs', async () => {
    const script = join(mkdtempSync(join(tmpdir(), 'noexec-')), 'client.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const { exitCode, results, output, left } = await runWith(`${TS}
  missing: {language: sh, library: none, batch: true, client: [./no/such/client]}
  noexec: {language: sh, library: none, batch: true, client: [${script}]}`);
    const cells = byId(results);
    for (const name of ['greeter_say_hello', 'helloworld_service']) {
      expect(cells[`missing→ts/insecure/seeds/${name}`]).toMatchObject({ status: 'failed', error: expect.stringMatching(/^cannot start client: \.\/no\/such\/client: no such file or command/) });
      expect(cells[`noexec→ts/insecure/seeds/${name}`]).toMatchObject({ status: 'failed', error: expect.stringMatching(/^cannot start client: .*client\.sh: permission denied/) });
      expect(cells[`ts→ts/insecure/seeds/${name}`]?.status).toBe('passed');
    }
    expect(output).not.toMatch(/setup failure|\n\s+at /);
    expect(exitCode).toBe(1);
    expect(left).toEqual([]);
  }, 60_000);

  it('a batch client that hangs before its first result fails only the case in flight; the others run in a fresh process', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'hang-first-')), 'hung');
    // The first process hangs at once; the next one works.
    const client = `[ -e ${marker} ] || { touch ${marker}; exec sleep 301.75; }; ${shClient('PASS')}`;
    const { results, left } = await runWith(`${TS}
  stuck: {language: sh, library: none, batch: true, client: [sh, -c, '${client}', client]}`, [], FAST, true, THREE);
    const cells = byId(results);
    expect(cells['stuck→ts/insecure/seeds/greeter_say_hello']).toMatchObject({ status: 'failed', error: expect.stringMatching(/no result for case greeter_say_hello within 5000 ms/) });
    expect(cells['stuck→ts/insecure/seeds/stream_server']).toMatchObject({ status: 'passed', log: expect.stringMatching(/client-stuck\.part2\.log$/) });
    expect(cells['stuck→ts/insecure/seeds/helloworld_service']?.status).toBe('passed');
    expect(left).toEqual([]);
  }, 60_000);
});
