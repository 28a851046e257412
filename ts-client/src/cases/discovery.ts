/**
 * The `discovery` suite (docs/peer-contract.md): what production tooling relies on, server
 * reflection (v1 and v1alpha, the messages of @grpc/reflection's protos) and health checking.
 * Every RPC has the --rpc_timeout_ms deadline.
 */
import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { IFileDescriptorProto } from 'protobufjs/ext/descriptor/index.js';
import { expectEqual, expectOk, expectThat, show } from '../check.js';
import type { CaseContext } from '../context.js';
import { unary } from '../rpc.js';
import { decodeFileDescriptor, type ReflectionRequest, type ReflectionResponse, reflectionStub, type ReflectionVersion } from '../reflection.js';
import type { CaseFn } from './registry.js';
import { healthClient } from './seeds.js';

/** The served services: every server serves (and its reflection describes) each of them. */
export const SERVED_SERVICES: readonly string[] = [
  'helloworld.Greeter',
  'helloworld.StreamingGreeter',
  'rpc_package.HelloWorldService',
  'compute.Compute',
  'UserRecommend',
  'TestServer',
  'panda.Panda',
  'grpc.testing.TestService',
  'grpc.health.v1.Health',
  'interop.ServerInfo',
  'interop.scripted.Scripted',
];

/** The response members the cases expect. */
type ResponseKind = Exclude<keyof ReflectionResponse, 'message_response'>;

/**
 * One `ServerReflectionInfo` stream of `version`: `ask` sends a request and reads its one
 * response, which must be of the kind expected; `finish` half-closes, and the stream must then
 * end OK with no further response.
 */
function reflectionStream(ctx: CaseContext, version: ReflectionVersion) {
  const call = ctx.client(reflectionStub(version)).ServerReflectionInfo(ctx.deadline());
  const responses: AsyncIterator<ReflectionResponse> = call[Symbol.asyncIterator]();
  const rpc = `${version} ServerReflectionInfo`;
  const ask = async <K extends ResponseKind>(request: ReflectionRequest, kind: K): Promise<NonNullable<ReflectionResponse[K]>> => {
    const what = `${rpc} ${show(request)}`;
    call.write(request);
    const next = await expectOk(what, responses.next());
    expectThat(what, !next.done, 'the stream ended before the response');
    const response: ReflectionResponse = next.value ?? {};
    const error = response.error_response;
    const got = error ? `error_response ${show(error)}` : (response.message_response ?? 'no response member');
    expectThat(what, response.message_response === kind, `expected ${kind}, got ${got}`);
    return response[kind] as NonNullable<ReflectionResponse[K]>;
  };
  const finish = async () => {
    call.end();
    const what = `${rpc} after half-close`;
    const last = await expectOk(what, responses.next());
    expectThat(what, last.done === true, `unexpected extra response ${show(last.value)}`);
  };
  return { ask, finish, cancel: () => call.cancel() };
}

type Ask = ReturnType<typeof reflectionStream>['ask'];

/** Runs `steps` on one reflection stream, which it then half-closes (cancelled whatever happens). */
async function onReflectionStream(ctx: CaseContext, version: ReflectionVersion, steps: (ask: Ask) => Promise<void>): Promise<void> {
  const stream = reflectionStream(ctx, version);
  try {
    await steps(stream.ask);
    await stream.finish();
  } finally {
    stream.cancel();
  }
}

/** `{list_services:""}` → a list_services_response naming every served service. */
async function expectServicesListed(ask: Ask): Promise<void> {
  const listed = (await ask({ list_services: '' }, 'list_services_response')).service.map((s) => s.name);
  const missing = SERVED_SERVICES.filter((name) => !listed.includes(name));
  expectThat('list_services_response service names', missing.length === 0, `missing ${missing.join(', ')}; listed ${show(listed)}`);
}

const reflectionList = (version: ReflectionVersion): CaseFn => (ctx) => onReflectionStream(ctx, version, expectServicesListed);

/** `{file_containing_symbol}` → the files of a file_descriptor_response, decoded. */
async function filesContaining(ask: Ask, symbol: string): Promise<IFileDescriptorProto[]> {
  const response = await ask({ file_containing_symbol: symbol }, 'file_descriptor_response');
  return response.file_descriptor_proto.map(decodeFileDescriptor);
}

/** The file of `files` with package `pkg` that declares `declares`; a failed check when none does. */
function fileDeclaring(what: string, files: IFileDescriptorProto[], pkg: string, declares: (file: IFileDescriptorProto) => boolean, declaration: string): IFileDescriptorProto | undefined {
  const file = files.find((f) => f.package === pkg && declares(f));
  const got = files.map((f) => `${f.name} (package ${JSON.stringify(f.package ?? '')})`).join(', ');
  expectThat(what, file !== undefined, `no file with package ${pkg} declares ${declaration}; got ${got || 'no files'}`);
  return file;
}

/** The methods of interop.scripted.Scripted (protos/interop/scripted.proto), by name. */
const SCRIPTED_METHODS = [
  { name: 'BidiStream', client_streaming: true, server_streaming: true },
  { name: 'ClientStream', client_streaming: true, server_streaming: false },
  { name: 'ServerStream', client_streaming: false, server_streaming: true },
  { name: 'Unary', client_streaming: false, server_streaming: false },
];

const reflectionFileContainingSymbol: CaseFn = (ctx) =>
  onReflectionStream(ctx, 'v1', async (ask) => {
    const scripted = 'file_containing_symbol "interop.scripted.Scripted"';
    const file = fileDeclaring(scripted, await filesContaining(ask, 'interop.scripted.Scripted'), 'interop.scripted', (f) => (f.service ?? []).some((s) => s.name === 'Scripted'), 'service Scripted');
    const methods = (file?.service ?? [])
      .find((s) => s.name === 'Scripted')
      ?.method?.map((m) => ({ name: m.name, client_streaming: Boolean(m.clientStreaming), server_streaming: Boolean(m.serverStreaming) }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    expectEqual(`${scripted}: service Scripted methods`, SCRIPTED_METHODS, methods);
    const message = 'file_containing_symbol "helloworld.HelloRequest"';
    fileDeclaring(message, await filesContaining(ask, 'helloworld.HelloRequest'), 'helloworld', (f) => (f.messageType ?? []).some((m) => m.name === 'HelloRequest'), 'message HelloRequest');
    const error = await ask({ file_containing_symbol: 'no.such.Service' }, 'error_response');
    expectEqual('file_containing_symbol "no.such.Service": error_response.error_code', status[status.NOT_FOUND], status[error.error_code] ?? String(error.error_code));
    // An unknown symbol does not end the stream.
    await ask({ list_services: '' }, 'list_services_response');
  });

const healthWatchServing: CaseFn = (ctx) => healthClient(ctx).watch('', 'SERVING');

/**
 * A Watch of a fresh name is told each status `script.set_health` gives that name (through
 * Scripted/Unary on the Watch's own channel, so the same server process), and Check answers the
 * last one. Every wait for a Watch message ends at the case's deadline.
 */
const healthWatchUpdates: CaseFn = async (ctx) => {
  const service = `interop.watched.${randomBytes(8).toString('hex')}`;
  const health = healthClient(ctx);
  const scripted = ctx.onChannelOf(ctx.protos.interop.scripted.Scripted, health.stub);
  const watch = health.watchStream(service);
  try {
    await watch.next('first message', 'SERVICE_UNKNOWN');
    for (const to of ['SERVING', 'NOT_SERVING'] as const) {
      const what = `Scripted/Unary{script:{set_health:[{service:${JSON.stringify(service)},status:${JSON.stringify(to)}}]}}`;
      await expectOk(what, unary((cb) => scripted.Unary({ script: { set_health: [{ service, status: to }] } }, ctx.deadline(), cb)));
      await watch.next(`message after set_health ${to}`, to);
    }
    const what = `Health/Check{service:${JSON.stringify(service)}}`;
    const reply = await expectOk(what, health.check(service));
    expectEqual(`${what} status`, 'NOT_SERVING', reply.status);
  } finally {
    watch.cancel();
  }
};

const healthCheckEveryService: CaseFn = async (ctx) => {
  const health = healthClient(ctx);
  for (const service of ['', ...SERVED_SERVICES]) await health.serving(service);
};

export const DISCOVERY_CASES: Record<string, CaseFn> = {
  reflection_list_v1: reflectionList('v1'),
  reflection_list_v1alpha: reflectionList('v1alpha'),
  reflection_file_containing_symbol: reflectionFileContainingSymbol,
  health_watch_serving: healthWatchServing,
  health_watch_updates: healthWatchUpdates,
  health_check_every_service: healthCheckEveryService,
};
