/**
 * Echo metadata on EmptyCall (docs/peer-contract.md, "TestService behaviour": on every method):
 * each of our servers, started as a process the way matrix.yaml starts it, sends
 * `x-grpc-test-echo-initial` back in the response headers and `x-grpc-test-echo-trailing-bin` back
 * in the trailers of `grpc.testing.TestService/EmptyCall`, with the same value and bytes.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';
import type { ResultPromise } from 'execa';
import { loadProtos } from '../ts-common/src/proto.js';
import { repoRoot } from '../ts-common/src/paths.js';
import { startListening } from './helpers/peer.js';
import { loadMatrix } from '../runner/src/config.js';

const root = repoRoot();
const matrix = loadMatrix(join(root, 'matrix.yaml'));

const INITIAL = 'x-grpc-test-echo-initial';
const TRAILING = 'x-grpc-test-echo-trailing-bin';
const INITIAL_VALUE = 'test_initial_metadata_value';
const TRAILING_VALUE = Buffer.from([0xab, 0xab, 0xab]);

/** The server command line of `implementations.NAME.server` in matrix.yaml. */
function serverCommand(name: string): [string, string[]] {
  const command = matrix.implementations[name]?.server;
  if (!command) throw new Error(`matrix.yaml has no implementations.${name}.server`);
  const [file, ...args] = command;
  return [file!, args];
}

const SERVERS: Array<[string, [string, string[]]]> = [
  ['ts', ['node', ['build/ts/ts-server/src/main.js']]],
  ['python', serverCommand('python')],
  ['go', serverCommand('go')],
];

const started: ResultPromise[] = [];

/** Starts a server with --port=0 and resolves to the port of its `{"event":"listening"}` line. */
function startServer(file: string, args: string[]): Promise<number> {
  return startListening(file, args, started);
}

interface Echoed {
  code: status;
  details: string;
  headers: Metadata;
  trailers: Metadata;
}

/** EmptyCall with both echo entries; resolves with what came back once the call has ended. */
function emptyCallEchoed(port: number): Promise<Echoed> {
  const client = new (loadProtos().grpc.testing.TestService)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set(INITIAL, INITIAL_VALUE);
  metadata.set(TRAILING, TRAILING_VALUE);
  return new Promise<Echoed>((resolve) => {
    let headers = new Metadata();
    const call = client.EmptyCall({}, metadata, { deadline: Date.now() + 10_000 }, () => undefined);
    call.on('metadata', (m: Metadata) => (headers = m));
    call.on('status', (s: grpc.StatusObject) => {
      client.close();
      resolve({ code: s.code, details: s.details, headers, trailers: s.metadata });
    });
  });
}

describe('EmptyCall echoes the request metadata', () => {
  afterAll(async () => {
    for (const server of started) server.kill();
    await Promise.all(started);
  });

  it.each(SERVERS)('%s server: the initial entry in the headers, the binary one in the trailers', async (_name, [file, args]) => {
    const port = await startServer(file, args);
    const echoed = await emptyCallEchoed(port);
    expect(echoed.code === status.OK ? 'OK' : `${status[echoed.code]}: ${echoed.details}`).toBe('OK');
    expect(echoed.headers.get(INITIAL)).toEqual([INITIAL_VALUE]);
    expect(echoed.trailers.get(TRAILING)).toEqual([TRAILING_VALUE]);
  });
});
