/**
 * Long-lived client executors (docs/peer-contract.md, "Executor mode"): a client with
 * `executor: true` is started once and takes every batch of the run; its log is split per batch;
 * one that hangs or dies is blamed for the case in flight only, and the next batch gets a fresh
 * process; none is left behind.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Results } from '../runner/src/results.js';
import { configFile, start, survivors, TS_CLIENT, TS_SERVER } from './helpers/cli.js';

const THREE = '[greeter_say_hello, stream_server, helloworld_service]';
const FAST = 'timeouts: {client_start_ms: 2000, case_ms: 3000, health_check_ms: 1000}\n';
const SERVERS = `  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}}
  ts2: {language: typescript, library: grpc-js, server: ${TS_SERVER}}`;

/**
 * An executor that passes every case, printing a stderr line per run; in its first process only,
 * it misbehaves at case `at`: `hang` (never answers) or `crash` (exit 9). Each process appends
 * its pid to `starts`.
 */
function fakeExecutor(starts: string, misbehave: 'none' | 'hang' | 'crash', at = 'stream_server'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'executor-')), 'executor.mjs');
  writeFileSync(
    file,
    `import { appendFileSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
appendFileSync(${JSON.stringify(starts)}, process.pid + '\\n');
const first = readFileSync(${JSON.stringify(starts)}, 'utf8').trim().split('\\n').length === 1;
const say = (stream, line) => stream.write(JSON.stringify(line) + '\\n');
for await (const text of createInterface({ input: process.stdin })) {
  const { run, args } = JSON.parse(text);
  process.stderr.write('stderr of run ' + run + ' ' + args.find((a) => a.startsWith('--server_port=')) + '\\n');
  for (const name of args.find((a) => a.startsWith('--test_case=')).slice(12).split(',')) {
    if (first && name === ${JSON.stringify(at)} && ${JSON.stringify(misbehave)} === 'hang') await new Promise(() => setInterval(() => undefined, 1000));
    if (first && name === ${JSON.stringify(at)} && ${JSON.stringify(misbehave)} === 'crash') { process.stderr.write('segfault\\n'); process.exit(9); }
    say(process.stdout, { case: name, status: 'passed', ms: 1 });
  }
  say(process.stdout, { run, exit_code: 0 });
  say(process.stderr, { run, exit_code: 0 });
}
`,
  );
  return file;
}

async function runWith(implementations: string, args: string[] = [], extra = '', cases = THREE) {
  const { dir, config } = configFile(implementations, extra, cases);
  const out = join(dir, 'out');
  const { run, tag } = start(config, out, ['--jobs', '1', ...args]);
  const finished = await run;
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
  return { exitCode: finished.exitCode, output: finished.all ?? '', results, out, left: survivors(tag) };
}

const byId = (r: Results) => Object.fromEntries(r.cells.map((c) => [c.id, c]));
const pids = (file: string) => readFileSync(file, 'utf8').trim().split('\n');

describe('client executors', () => {
  it('the grpc-js client runs every batch of the run in one process, each batch with its own log', async () => {
    const { exitCode, results, out, left } = await runWith(`${SERVERS}
  tsx: {language: typescript, library: grpc-js, client: ${TS_CLIENT}, batch: true, executor: true}`);
    expect(exitCode).toBe(0);
    expect(results.cells.map((c) => c.status)).toEqual(Array(6).fill('passed'));
    expect(results.timings).toMatchObject({ clientRuns: 2, clientProcesses: 1 });
    const logs = ['ts', 'ts2'].map((server) => readFileSync(join(out, 'logs', server, 'insecure', 'client-tsx.log'), 'utf8'));
    for (const [i, log] of logs.entries()) {
      expect(log).toMatch(/^\$ node build\/ts\/ts-client\/src\/main\.js --executor {2}\(pid (\d+), run \d+\) <<< \{"run":\d+,"args":\["--server_host=127\.0\.0\.1"/);
      // Only this batch's lines: its three cases and its end line.
      expect(log.match(/"case":/g)).toHaveLength(3);
      expect(log).toMatch(new RegExp(`"run":${i + 1},"exit_code":0`));
    }
    expect(logs[0]!.match(/pid (\d+)/)![1]).toBe(logs[1]!.match(/pid (\d+)/)![1]);
    expect(left).toEqual([]);
  }, 60_000);

  it("an executor's stderr goes to the log of the batch that printed it", async () => {
    const starts = join(mkdtempSync(join(tmpdir(), 'starts-')), 'pids');
    const { results, out } = await runWith(`${SERVERS}
  fake: {language: js, library: none, client: [node, ${fakeExecutor(starts, 'none')}], batch: true, executor: true}`);
    expect(results.cells.every((c) => c.status === 'passed')).toBe(true);
    expect(pids(starts)).toHaveLength(1);
    for (const server of ['ts', 'ts2']) {
      const log = readFileSync(join(out, 'logs', server, 'insecure', 'client-fake.log'), 'utf8');
      const port = /"--server_port=(\d+)"/.exec(log)![1];
      expect(log.match(/stderr of run/g)).toHaveLength(1);
      expect(log).toContain(`--server_port=${port}\n`);
    }
  }, 60_000);

  it('an executor that hangs is killed at the case deadline; the cases after it, and the next batch, run in a fresh one', async () => {
    const starts = join(mkdtempSync(join(tmpdir(), 'starts-')), 'pids');
    const { results, left } = await runWith(`${SERVERS}
  fake: {language: js, library: none, client: [node, ${fakeExecutor(starts, 'hang')}], batch: true, executor: true}`, [], FAST);
    const cells = byId(results);
    const failed = results.cells.filter((c) => c.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ case: 'stream_server', error: expect.stringMatching(/client killed after \d+ ms: no result for case stream_server within 3000 ms[\s\S]*executor process killed by SIGTERM/) });
    const other = failed[0]!.server === 'ts' ? 'ts2' : 'ts';
    expect(cells[`fake→${failed[0]!.server}/insecure/seeds/helloworld_service`]).toMatchObject({ status: 'passed', log: expect.stringMatching(/client-fake\.part2\.log$/) });
    expect(cells[`fake→${other}/insecure/seeds/stream_server`]?.status).toBe('passed');
    expect(pids(starts)).toHaveLength(2);
    expect(results.timings).toMatchObject({ clientRuns: 3, clientProcesses: 2 });
    expect(left).toEqual([]);
  }, 60_000);

  it('an executor that dies keeps the cases it reported and fails the one in flight with its stderr; a fresh one takes the rest', async () => {
    const starts = join(mkdtempSync(join(tmpdir(), 'starts-')), 'pids');
    const { results, left } = await runWith(`${SERVERS}
  fake: {language: js, library: none, client: [node, ${fakeExecutor(starts, 'crash')}], batch: true, executor: true}`);
    const failed = results.cells.filter((c) => c.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ case: 'stream_server', error: expect.stringMatching(/client exited with code 9 without reporting this case[\s\S]*segfault/) });
    expect(results.cells.filter((c) => c.status === 'passed')).toHaveLength(5);
    expect(pids(starts)).toHaveLength(2);
    expect(left).toEqual([]);
  }, 60_000);

  it('an executor command that cannot start fails its cells with the reason', async () => {
    const { results } = await runWith(`${SERVERS}
  missing: {language: sh, library: none, client: [./no/such/client], batch: true, executor: true}`);
    for (const cell of results.cells) expect(cell).toMatchObject({ status: 'failed', error: expect.stringMatching(/^cannot start client: \.\/no\/such\/client: no such file or command/) });
  }, 60_000);

  it('--no-batch starts a one-shot process per case even for a client with executor mode', async () => {
    const { results } = await runWith(`  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}}
  tsx: {language: typescript, library: grpc-js, client: ${TS_CLIENT}, batch: true, executor: true}`, ['--no-batch']);
    expect(results.cells.map((c) => c.status)).toEqual(Array(3).fill('passed'));
    expect(results.timings).toMatchObject({ clientRuns: 3, clientProcesses: 3 });
  }, 60_000);
});
