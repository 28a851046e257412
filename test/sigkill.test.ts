/**
 * Nothing outlives the runner, whatever kills it: SIGKILL of the runner alone, or of the whole
 * process group of the job (as CI systems do), mid-run or mid-build. Servers run with
 * --workers=2, so the workers of every language are covered too, and a long-lived client
 * executor is idle in the background (a fourth server's group still needs it). Five seconds after the kill,
 * no process of the run may be left.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFile, shClient, sleep, start, survivors, until } from './helpers/cli.js';

const SERVERS = `  ts: {language: typescript, library: grpc-js, server: [node, build/ts/ts-server/src/main.js, --workers=2]}
  python: {language: python, library: grpcio, server: [interop/python/.venv/bin/python, interop/python/server.py, --workers=2]}
  go: {language: go, library: grpc-go, server: [build/go/server, --workers=2]}
  ts-later: {language: typescript, library: grpc-js, server: [node, build/ts/ts-server/src/main.js]}
  executor: {language: typescript, library: grpc-js, batch: true, executor: true, client: [node, build/ts/ts-client/src/main.js]}
  slow: {language: sh, library: none, batch: true, client: [sh, -c, '${shClient('PASS; sleep 300')}', client]}`;

/** Starts a run whose three servers (and their workers) are all up with a client in a case. */
async function midRun(detached: boolean) {
  const { dir, config } = configFile(SERVERS, 'timeouts: {case_ms: 600000}\n');
  const out = join(dir, 'out');
  const started = start(config, out, ['--jobs', '3'], { detached });
  const clientLog = (server: string) => join(out, 'logs', server, 'insecure', 'client-slow.log');
  // Three of the four groups hold the three job slots with a slow client in a case; the fourth waits.
  const busy = () => ['ts', 'python', 'go', 'ts-later'].filter((s) => existsSync(clientLog(s)) && readFileSync(clientLog(s), 'utf8').includes('"case"')).length === 3;
  expect(await until(busy, 60_000)).toBe(true);
  // The runner, three servers (two workers each, but ts-later's), three clients (sh and its
  // sleep), and the long-lived executor of the client that ran first: idle, and kept, because
  // the fourth group (waiting for one of the three job slots the slow clients hold) still needs it.
  expect(survivors(started.tag).length).toBeGreaterThanOrEqual(1 + 3 * 2 + 3 + 1);
  expect(survivors(started.tag).some((p) => p.includes('--executor'))).toBe(true);
  return started;
}

describe('no process outlives the runner', () => {
  it('SIGKILL of the runner mid-run: every server, worker and client is gone 5 s later', async () => {
    const { run, tag } = await midRun(false);
    run.kill('SIGKILL');
    await run;
    await sleep(5000);
    expect(survivors(tag)).toEqual([]);
  }, 120_000);

  it('SIGKILL of the job\'s whole process group mid-run: every peer is gone 5 s later', async () => {
    const { run, tag } = await midRun(true);
    process.kill(-run.pid!, 'SIGKILL');
    await run;
    await sleep(5000);
    expect(survivors(tag)).toEqual([]);
  }, 120_000);

  it('SIGKILL of the runner during a build: the build and what it started are gone 5 s later', async () => {
    const { dir, config } = configFile(`  slowbuild:
    language: sh
    library: none
    build: {command: [sh, -c, 'sleep 300 & sleep 301; true'], inputs: [package.json]}
    server: [node, build/ts/ts-server/src/main.js]
    client: [node, build/ts/ts-client/src/main.js]`);
    const { run, tag } = start(config, join(dir, 'out'));
    expect(await until(() => survivors(tag).some((p) => / sleep 301/.test(` ${p.split(': ')[1]}`)), 30_000)).toBe(true);
    run.kill('SIGKILL');
    await run;
    await sleep(5000);
    expect(survivors(tag)).toEqual([]);
  }, 60_000);
});
