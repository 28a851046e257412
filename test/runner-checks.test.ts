/**
 * Checks the runner holds (runner_checks in matrix.yaml): the client only reports what it
 * observed, and the runner judges it against what only the runner knows — here the library
 * version installed for the server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from '../runner/src/results.js';
import { configFile, start, survivors, TS_SERVER } from './helpers/cli.js';

const installed = (JSON.parse(readFileSync('node_modules/@grpc/grpc-js/package.json', 'utf8')) as { version: string }).version;

/** A batch client that reports server_info_version passed, having observed `version`. */
const reporting = (version: string) =>
  `reports: {language: sh, library: none, batch: true, client: [sh, -c, 'echo "{\\"case\\":\\"server_info_version\\",\\"status\\":\\"passed\\",\\"ms\\":1,\\"observed\\":{\\"implementation\\":\\"grpc-js\\",\\"version\\":\\"${version}\\"}}"', client]}`;

async function run(version: string, installedVersion = `[node, -p, "require('@grpc/grpc-js/package.json').version"]`) {
  const { dir, config } = configFile(
    `  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}, installed_version: ${installedVersion}}\n  ${reporting(version)}`,
    '',
    '[{name: server_info_version, runner_checks: [server_version]}]',
  );
  const { run: running, tag } = start(config, join(dir, 'out'));
  const result = await running;
  const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as Results;
  expect(survivors(tag)).toEqual([]);
  return { exitCode: result.exitCode, cell: results.cells[0]!, results };
}

describe('runner checks', () => {
  it('server_version: the version the client observed equals the installed one → passed, and results.json records both', async () => {
    const { exitCode, cell, results } = await run(installed);
    expect(cell.status).toBe('passed');
    expect(results.implementations['ts']).toMatchObject({ version: installed, installed });
    expect(exitCode).toBe(0);
  }, 60_000);

  it('server_version: a client that passed but observed another version fails, with both versions in the reason', async () => {
    const { exitCode, cell } = await run('0.0.0-fault');
    expect(cell).toMatchObject({ status: 'failed', error: `server_version: server ts reports grpc-js 0.0.0-fault, but ${installed} is installed` });
    expect(exitCode).toBe(1);
  }, 60_000);

  it('server_version: an installed_version command that fails fails the cell, saying why', async () => {
    const { cell } = await run(installed, '[sh, -c, "echo no such package >&2; exit 3"]');
    expect(cell).toMatchObject({ status: 'failed', error: expect.stringMatching(/^server_version: cannot tell the installed library version of ts: `sh -c .*` failed: no such package/) });
  }, 60_000);
});
