/**
 * The network axis: a Toxiproxy proxy between every client and the server of a network. Its
 * cells are named `TRANSPORT~NETWORK`; traffic really goes through the proxy (a network that
 * cuts the connection turns the cells red, in bounded time, while the direct ones pass); the
 * proxy is gone after the run; a proxy that cannot start fails only the cells on networks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from '../runner/src/results.js';
import { configFile, start, survivors, TS } from './helpers/cli.js';

const TOOLS = `tools:
  toxiproxy:
    build: {command: [go, -C, ci/tools, build, -o, ../../build/tools/toxiproxy-server, github.com/Shopify/toxiproxy/v2/cmd/server], inputs: [ci/tools/go.mod, ci/tools/go.sum], outputs: [build/tools/toxiproxy-server]}
    command: [build/tools/toxiproxy-server]
network_proxy: toxiproxy
`;
const CASES = '[greeter_say_hello, stream_bidi]';

async function runWith(extra: string, args: string[]) {
  const { dir, config } = configFile(TS, extra, CASES);
  const out = join(dir, 'out');
  const { run, tag } = start(config, out, args);
  const finished = await run;
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
  return { exitCode: finished.exitCode, output: finished.all ?? '', results, left: survivors(tag) };
}

const statuses = (r: Results) => Object.fromEntries(r.cells.map((c) => [c.id, c.status]));

describe('networks', () => {
  it('cells on a network run through the proxy: sliced and delayed traffic passes, named TRANSPORT~NETWORK; the proxy is gone afterwards', async () => {
    const { exitCode, results, left } = await runWith(
      `${TOOLS}networks:
  slow-sliced:
    toxics: [{type: latency, attributes: {latency: 20}}, {type: slicer, attributes: {average_size: 16, size_variation: 8, delay: 10}}]
    cases: {seeds: [greeter_say_hello, stream_bidi]}
`,
      ['--networks', 'direct,slow-sliced'],
    );
    expect(statuses(results)).toEqual({
      'ts→ts/insecure/seeds/greeter_say_hello': 'passed',
      'ts→ts/insecure~slow-sliced/seeds/greeter_say_hello': 'passed',
      'ts→ts/insecure/seeds/stream_bidi': 'passed',
      'ts→ts/insecure~slow-sliced/seeds/stream_bidi': 'passed',
    });
    expect(exitCode).toBe(0);
    expect(left).toEqual([]);
  }, 180_000);

  it('a network that cuts the connection fails its cells with the status the client got, in bounded time; direct cells pass', async () => {
    const { exitCode, results, left } = await runWith(
      `${TOOLS}networks:
  cut:
    toxics: [{type: limit_data, stream: downstream, attributes: {bytes: 60}}]
    cases: {seeds: [greeter_say_hello]}
timeouts: {case_ms: 20000}
`,
      ['--networks', 'direct,cut'],
    );
    const cut = results.cells.find((c) => c.transport === 'insecure~cut')!;
    expect(cut).toMatchObject({ status: 'failed', error: expect.stringMatching(/UNAVAILABLE|DEADLINE_EXCEEDED/) });
    expect(results.cells.filter((c) => c.transport === 'insecure').map((c) => c.status)).toEqual(['passed', 'passed']);
    expect(exitCode).toBe(1);
    expect(left).toEqual([]);
  }, 180_000);

  it('a proxy that cannot start fails only the cells on networks, with the reason', async () => {
    const { results } = await runWith(
      `tools:
  toxiproxy: {command: [./no/such/toxiproxy]}
network_proxy: toxiproxy
networks:
  latency:
    toxics: [{type: latency, attributes: {latency: 10}}]
    cases: {seeds: [greeter_say_hello]}
`,
      ['--networks', 'direct,latency'],
    );
    expect(results.cells.find((c) => c.transport === 'insecure~latency')).toMatchObject({ status: 'failed', error: expect.stringMatching(/^network latency: cannot start the network proxy \.\/no\/such\/toxiproxy: no such file/) });
    expect(results.cells.filter((c) => c.transport === 'insecure').every((c) => c.status === 'passed')).toBe(true);
  }, 120_000);

  it('--networks names only direct and the networks of matrix.yaml', async () => {
    const { dir, config } = configFile(TS, '', CASES);
    const { run } = start(config, join(dir, 'out'), ['--networks', 'latency']);
    const finished = await run;
    expect(finished.exitCode).toBe(2);
    expect(finished.all).toMatch(/unknown network "latency"; available: direct/);
  }, 60_000);
});
