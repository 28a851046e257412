/**
 * Server reflection over the wire (@grpc/reflection, v1 and v1alpha): what it lists and which
 * files it gives, on the in-process server, under reflection-incomplete, and on every worker of
 * a --workers server (the built binary, started as the runner starts it: needs the build).
 */
import * as grpc from '@grpc/grpc-js';
import type { ResultPromise } from 'execa';
import type { ServerInfoReply__Output } from '../../ts-common/src/generated/interop/ServerInfoReply.js';
import { loadProtos } from '../../ts-common/src/proto.js';
import { SERVED_SERVICES } from '../../ts-client/src/cases/discovery.js';
import { decodeFileDescriptor, type ReflectionRequest, type ReflectionResponse, reflectionStub, type ReflectionVersion } from '../../ts-client/src/reflection.js';
import { settled, unary } from '../../ts-client/src/rpc.js';
import { startListening } from '../../test/helpers/peer.js';
import { parseFaults } from '../src/faults.js';
import { serve } from '../src/server.js';

const VERSIONS: ReflectionVersion[] = ['v1', 'v1alpha'];
const deadline = () => ({ deadline: Date.now() + 5000 });

/** Sends `requests` on one ServerReflectionInfo stream of `client`, half-closes; every response, once the stream ends OK. */
async function reflect(client: InstanceType<ReturnType<typeof reflectionStub>>, requests: ReflectionRequest[]): Promise<ReflectionResponse[]> {
  const call = client.ServerReflectionInfo(deadline());
  for (const request of requests) call.write(request);
  call.end();
  const responses: ReflectionResponse[] = [];
  for await (const response of call) responses.push(response as ReflectionResponse);
  return responses;
}

/** A reflection stub of `version` on a channel of its own to `port`, closed after `fn`. */
async function withReflection<T>(port: number, version: ReflectionVersion, fn: (client: InstanceType<ReturnType<typeof reflectionStub>>) => Promise<T>, options: grpc.ClientOptions = {}): Promise<T> {
  const client = new (reflectionStub(version))(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

const listed = async (port: number, version: ReflectionVersion) =>
  withReflection(port, version, async (client) => (await reflect(client, [{ list_services: '' }]))[0]?.list_services_response?.service.map((s) => s.name).sort());

/** file_containing_symbol on v1: each file's name, package and declared dependencies; or the error_response. */
const filesContaining = async (port: number, symbol: string) =>
  withReflection(port, 'v1', async (client) => {
    const [response] = await reflect(client, [{ file_containing_symbol: symbol }]);
    if (response?.error_response) return response.error_response;
    return response?.file_descriptor_response?.file_descriptor_proto.map(decodeFileDescriptor).map((f) => ({ name: f.name, package: f.package, dependency: f.dependency }));
  });

async function withServer(fault: string, fn: (port: number) => Promise<void>): Promise<void> {
  const server = await serve({ host: '127.0.0.1', port: 0, faults: parseFaults(fault) });
  try {
    await fn(server.port);
  } finally {
    await server.stop(100);
  }
}

describe('reflection on the ts server', () => {
  it.each(VERSIONS)('%s lists every served service (package-less ones with a leading dot), UnimplementedService, and not the reflection services', async (version) => {
    // @grpc/reflection 1.0.4 names a service `${package}.${name}`: ".TestServer" for a file without a package.
    const expected = [...SERVED_SERVICES.map((name) => (name.includes('.') ? name : `.${name}`)), 'grpc.testing.UnimplementedService'].sort();
    await withServer('', async (port) => {
      expect(await listed(port, version)).toEqual(expected);
    });
  });

  it('file_containing_symbol gives the file and the files it imports: one file per package, named after it, with no dependency list', async () => {
    await withServer('', async (port) => {
      expect(await filesContaining(port, 'interop.scripted.Scripted')).toEqual([
        { name: 'interop_scripted.proto', package: 'interop.scripted', dependency: [] },
        { name: 'google_protobuf.proto', package: 'google.protobuf', dependency: [] },
      ]);
      // test.proto, messages.proto and empty.proto: one file.
      expect(await filesContaining(port, 'grpc.testing.TestService')).toEqual([{ name: 'grpc_testing.proto', package: 'grpc.testing', dependency: [] }]);
      expect(await filesContaining(port, 'helloworld.HelloRequest')).toEqual([{ name: 'helloworld.proto', package: 'helloworld', dependency: [] }]);
      expect(await filesContaining(port, 'TestServer')).toEqual({ error_code: grpc.status.NOT_FOUND, error_message: 'Symbol not found: TestServer' });
    });
  });

  it('reflection-incomplete: Scripted is neither listed nor found (any symbol of interop.scripted), yet served; the rest is described as before', async () => {
    await withServer('reflection-incomplete', async (port) => {
      for (const version of VERSIONS) {
        const names = await listed(port, version);
        expect(names).not.toContain('interop.scripted.Scripted');
        expect(names).toContain('helloworld.Greeter');
      }
      for (const symbol of ['interop.scripted.Scripted', 'interop.scripted.Scripted.Unary', 'interop.scripted.ScriptedRequest']) {
        expect(await filesContaining(port, symbol)).toEqual({ error_code: grpc.status.NOT_FOUND, error_message: `Symbol not found: ${symbol}` });
      }
      expect(await filesContaining(port, 'helloworld.HelloRequest')).toEqual([{ name: 'helloworld.proto', package: 'helloworld', dependency: [] }]);
      const scripted = new (loadProtos().interop.scripted.Scripted)(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      try {
        expect((await settled(unary((cb) => scripted.Unary({}, deadline(), cb)))).code).not.toBe(grpc.status.UNIMPLEMENTED);
      } finally {
        scripted.close();
      }
    });
  });
});

describe('reflection on a --workers server', () => {
  const started: ResultPromise[] = [];

  afterAll(async () => {
    for (const server of started) server.kill('SIGTERM');
    await Promise.all(started);
  });

  it('every worker that answers serves reflection', async () => {
    const port = await startListening('node', ['build/ts/ts-server/src/main.js', '--workers=2'], started);
    const pids = new Set<number>();
    for (let i = 0; i < 16 && pids.size < 2; i++) {
      // A local subchannel pool: a connection of its own, which the primary hands to one worker.
      const names = await withReflection(
        port,
        VERSIONS[i % 2]!,
        async (client) => {
          const info = new (loadProtos().interop.ServerInfo)(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { channelOverride: client.getChannel() });
          pids.add((await unary<ServerInfoReply__Output>((cb) => info.GetInfo({}, deadline(), cb))).pid);
          return (await reflect(client, [{ list_services: '' }]))[0]?.list_services_response?.service.map((s) => s.name);
        },
        { 'grpc.use_local_subchannel_pool': 1 },
      );
      expect(names).toContain('interop.scripted.Scripted');
    }
    expect(pids.size).toBe(2);
  });
});
