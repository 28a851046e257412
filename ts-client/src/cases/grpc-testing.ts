/**
 * The `grpc.testing` suite: the upstream interop cases with their exact sizes and strings
 * (docs/peer-contract.md). grpc-js cannot see whether a response arrived compressed, so the
 * server_compressed_* cases check sizes only; it can send compressed requests (the
 * grpc.default_compression_algorithm channel option) and skip compression per message
 * (write flag NoCompress), so the client_compressed_* cases run in full.
 */
import * as grpc from '@grpc/grpc-js';
import { Metadata, status } from '@grpc/grpc-js';
import type { Payload__Output } from '../../../ts-common/src/generated/grpc/testing/Payload.js';
import type { SimpleRequest } from '../../../ts-common/src/generated/grpc/testing/SimpleRequest.js';
import type { SimpleResponse__Output } from '../../../ts-common/src/generated/grpc/testing/SimpleResponse.js';
import type { StreamingInputCallResponse__Output } from '../../../ts-common/src/generated/grpc/testing/StreamingInputCallResponse.js';
import type { StreamingOutputCallRequest } from '../../../ts-common/src/generated/grpc/testing/StreamingOutputCallRequest.js';
import type { StreamingOutputCallResponse__Output } from '../../../ts-common/src/generated/grpc/testing/StreamingOutputCallResponse.js';
import type { TestServiceClient } from '../../../ts-common/src/generated/grpc/testing/TestService.js';
import { expectEnded, expectEqual, expectOk, expectStatus, expectThat } from '../check.js';
import type { CaseContext } from '../context.js';
import { collect, finalStatus, settled, unary } from '../rpc.js';
import type { CaseFn } from './registry.js';

/** grpc-js's WriteFlags.NoCompress (a const enum, so not importable at run time). */
const NO_COMPRESS = 2;
const GZIP = 2; // CompressionAlgorithms.gzip

export const zeros = (size: number) => ({ type: 'COMPRESSABLE' as const, body: Buffer.alloc(size) });

export function expectPayload(what: string, payload: Payload__Output | null | undefined, size: number): void {
  expectThat(what, payload != null, 'the response has no payload');
  expectEqual(`${what} payload type`, 'COMPRESSABLE', payload!.type);
  expectEqual(`${what} payload size`, size, payload!.body.length);
  expectThat(`${what} payload`, payload!.body.every((b) => b === 0), 'the body is not all zero bytes');
}

export const testService = (ctx: CaseContext, options: grpc.ClientOptions = {}) => ctx.client(ctx.protos.grpc.testing.TestService, options);

export const unaryCall = (client: TestServiceClient, ctx: CaseContext, req: SimpleRequest, metadata = new Metadata()) =>
  unary<SimpleResponse__Output>((cb) => client.UnaryCall(req, metadata, ctx.deadline(), cb));

const emptyUnary: CaseFn = async (ctx) => {
  const client = testService(ctx);
  const reply = await expectOk('EmptyCall{}', unary<object>((cb) => client.EmptyCall({}, ctx.deadline(), cb)));
  expectEqual('EmptyCall{} reply', {}, { ...reply });
};

const largeUnary: CaseFn = async (ctx) => {
  const what = 'UnaryCall{response_size:314159, payload 271828}';
  const reply = await expectOk(what, unaryCall(testService(ctx), ctx, { response_size: 314159, payload: zeros(271828) }));
  expectPayload(what, reply.payload, 314159);
};

const clientCompressedUnary: CaseFn = async (ctx) => {
  const plain = testService(ctx);
  const gzip = testService(ctx, { 'grpc.default_compression_algorithm': GZIP });
  const req = (expect: boolean): SimpleRequest => ({ expect_compressed: { value: expect }, response_size: 314159, payload: zeros(271828) });
  await expectStatus('UnaryCall{expect_compressed:true} sent uncompressed (probe)', unaryCall(plain, ctx, req(true)), status.INVALID_ARGUMENT);
  const compressed = await expectOk('UnaryCall{expect_compressed:true} sent compressed', unaryCall(gzip, ctx, req(true)));
  expectPayload('UnaryCall{expect_compressed:true} sent compressed', compressed.payload, 314159);
  const uncompressed = await expectOk('UnaryCall{expect_compressed:false} sent uncompressed', unaryCall(plain, ctx, req(false)));
  expectPayload('UnaryCall{expect_compressed:false} sent uncompressed', uncompressed.payload, 314159);
};

const serverCompressedUnary: CaseFn = async (ctx) => {
  const client = testService(ctx);
  for (const compressed of [true, false]) {
    const what = `UnaryCall{response_compressed:${compressed}, response_size:314159}`;
    const reply = await expectOk(what, unaryCall(client, ctx, { response_compressed: { value: compressed }, response_size: 314159, payload: zeros(271828) }));
    expectPayload(what, reply.payload, 314159);
  }
};

/** StreamingInputCall: writes each (payload size, expect_compressed, compress?) and returns the reply. */
function streamingInput(client: TestServiceClient, ctx: CaseContext, messages: Array<{ size: number; expect?: boolean; compress?: boolean }>) {
  return unary<StreamingInputCallResponse__Output>((cb) => {
    const call = client.StreamingInputCall(ctx.deadline(), cb);
    for (const m of messages) {
      const req = { payload: zeros(m.size), ...(m.expect !== undefined ? { expect_compressed: { value: m.expect } } : {}) };
      if (m.compress === false) call.write(req, NO_COMPRESS);
      else call.write(req);
    }
    call.end();
  });
}

const clientStreaming: CaseFn = async (ctx) => {
  const what = 'StreamingInputCall[27182, 8, 1828, 45904]';
  const reply = await expectOk(what, streamingInput(testService(ctx), ctx, [{ size: 27182 }, { size: 8 }, { size: 1828 }, { size: 45904 }]));
  expectEqual(`${what} aggregated_payload_size`, 74922, reply.aggregated_payload_size);
};

const clientCompressedStreaming: CaseFn = async (ctx) => {
  const plain = testService(ctx);
  const gzip = testService(ctx, { 'grpc.default_compression_algorithm': GZIP });
  await expectStatus('StreamingInputCall[{expect_compressed:true} sent uncompressed] (probe)', streamingInput(plain, ctx, [{ size: 27182, expect: true }]), status.INVALID_ARGUMENT);
  const what = 'StreamingInputCall[{expect_compressed:true, 27182} compressed, {expect_compressed:false, 45904} uncompressed]';
  const reply = await expectOk(what, streamingInput(gzip, ctx, [{ size: 27182, expect: true }, { size: 45904, expect: false, compress: false }]));
  expectEqual(`${what} aggregated_payload_size`, 73086, reply.aggregated_payload_size);
};

/** Exactly one response per size, in order, each a payload of that size. */
export function expectPayloads(what: string, responses: StreamingOutputCallResponse__Output[], sizes: number[]): void {
  expectEqual(`${what} number of responses`, sizes.length, responses.length);
  responses.forEach((r, i) => expectPayload(`${what} response ${i + 1}`, r.payload, sizes[i]!));
}

async function streamingOutput(ctx: CaseContext, what: string, req: StreamingOutputCallRequest, sizes: number[]): Promise<void> {
  const responses = await expectOk(what, collect<StreamingOutputCallResponse__Output>(testService(ctx).StreamingOutputCall(req, ctx.deadline())));
  expectPayloads(what, responses, sizes);
}

const serverStreaming: CaseFn = (ctx) => {
  const sizes = [31415, 9, 2653, 58979];
  return streamingOutput(ctx, 'StreamingOutputCall[31415, 9, 2653, 58979]', { response_parameters: sizes.map((size) => ({ size })) }, sizes);
};

const serverCompressedStreaming: CaseFn = (ctx) =>
  streamingOutput(
    ctx,
    'StreamingOutputCall[{31415, compressed}, {92653, uncompressed}]',
    { response_parameters: [{ size: 31415, compressed: { value: true } }, { size: 92653, compressed: { value: false } }] },
    [31415, 92653],
  );

/** A FullDuplexCall driven one message at a time. */
export function duplex(ctx: CaseContext, metadata = new Metadata(), options: grpc.CallOptions = ctx.deadline()) {
  const call = testService(ctx).FullDuplexCall(metadata, options);
  const replies: AsyncIterator<StreamingOutputCallResponse__Output> = call[Symbol.asyncIterator]();
  const next = async (what: string, size: number) => {
    const r = await expectOk(what, replies.next());
    expectThat(what, !r.done, 'the stream ended before the response');
    expectPayload(what, r.value.payload, size);
  };
  const noFurther = (what: string, r: IteratorResult<StreamingOutputCallResponse__Output>) =>
    expectThat(what, r.done === true, `unexpected extra response of ${r.value?.payload?.body.length} bytes`);
  /** The stream must end OK, with no further response. */
  const done = async (what: string) => noFurther(what, await expectOk(what, replies.next()));
  /** No further response; resolves when the stream ends OK, rejects with its error otherwise. */
  const ends = async (what: string) => noFurther(what, await replies.next());
  return { call, next, done, ends };
}

const PING_PONG: Array<[number, number]> = [[31415, 27182], [9, 8], [2653, 1828], [58979, 45904]];

const pingPong: CaseFn = async (ctx) => {
  const { call, next, done } = duplex(ctx);
  try {
    for (const [size, body] of PING_PONG) {
      call.write({ response_parameters: [{ size }], payload: zeros(body) });
      await next(`FullDuplexCall ping {response ${size}, payload ${body}}`, size);
    }
    call.end();
    await done('FullDuplexCall after half-close');
  } finally {
    call.cancel();
  }
};

const emptyStream: CaseFn = async (ctx) => {
  const { call, done } = duplex(ctx);
  call.end();
  await done('FullDuplexCall half-closed at once');
};

const cancelAfterBegin: CaseFn = async (ctx) => {
  const client = testService(ctx);
  const call = client.StreamingInputCall(ctx.deadline(), () => undefined);
  const ended = finalStatus(call);
  if (ctx.target.clientFault === 'no-cancel') call.end();
  else call.cancel();
  const s = await ended;
  expectEqual('StreamingInputCall cancelled before any message: status', status[status.CANCELLED], status[s.code]);
};

const cancelAfterFirstResponse: CaseFn = async (ctx) => {
  const { call, next } = duplex(ctx);
  const ended = finalStatus(call);
  call.on('error', () => undefined);
  call.write({ response_parameters: [{ size: 31415 }], payload: zeros(27182) });
  await next('FullDuplexCall first response', 31415);
  if (ctx.target.clientFault === 'no-cancel') call.end();
  else call.cancel();
  const s = await ended;
  expectEqual('FullDuplexCall cancelled after the first response: status', status[status.CANCELLED], status[s.code]);
};

const timeoutOnSleepingServer: CaseFn = async (ctx) => {
  const noCancel = ctx.target.clientFault === 'no-cancel';
  const call = testService(ctx).FullDuplexCall(noCancel ? ctx.deadline() : { deadline: Date.now() + 1 });
  const ended = finalStatus(call);
  call.on('error', () => undefined);
  call.on('data', () => undefined);
  call.write({ response_parameters: [{ size: 31415 }], payload: zeros(27182) });
  if (noCancel) call.end();
  const s = await ended;
  expectEqual('FullDuplexCall with a 1 ms deadline: status', status[status.DEADLINE_EXCEEDED], status[s.code]);
};

const ECHO_INITIAL = ['x-grpc-test-echo-initial', 'test_initial_metadata_value'] as const;
const ECHO_TRAILING = ['x-grpc-test-echo-trailing-bin', Buffer.from([0xab, 0xab, 0xab])] as const;

function echoMetadata(): Metadata {
  const md = new Metadata();
  md.set(...ECHO_INITIAL);
  md.set(...ECHO_TRAILING);
  return md;
}

function expectEchoed(what: string, headers: Metadata | undefined, trailers: Metadata | undefined): void {
  expectEqual(`${what} ${ECHO_INITIAL[0]} in the response headers`, [ECHO_INITIAL[1]], headers?.get(ECHO_INITIAL[0]) ?? []);
  const got = trailers?.get(ECHO_TRAILING[0]) ?? [];
  expectThat(`${what} ${ECHO_TRAILING[0]} in the trailers`, got.length === 1 && Buffer.isBuffer(got[0]) && got[0].equals(ECHO_TRAILING[1]), `expected [0xababab], got ${JSON.stringify(got.map(String))}`);
}

const customMetadata: CaseFn = async (ctx) => {
  const client = testService(ctx);
  let headers: Metadata | undefined;
  let trailers: Metadata | undefined;
  const what = 'UnaryCall with echo metadata';
  const reply = await expectOk(
    what,
    unary<SimpleResponse__Output>((cb) => {
      const call = client.UnaryCall({ response_size: 314159, payload: zeros(271828) }, echoMetadata(), ctx.deadline(), cb);
      call.on('metadata', (md) => (headers = md));
      call.on('status', (s) => (trailers = s.metadata));
    }),
  );
  expectPayload(what, reply.payload, 314159);
  await new Promise((resolve) => setImmediate(resolve)); // 'status' follows the callback
  expectEchoed(what, headers, trailers);

  const { call, next, done } = duplex(ctx, echoMetadata());
  let duplexHeaders: Metadata | undefined;
  call.on('metadata', (md) => (duplexHeaders = md));
  const ended = finalStatus(call);
  call.write({ response_parameters: [{ size: 314159 }], payload: zeros(271828) });
  await next('FullDuplexCall with echo metadata', 314159);
  call.end();
  await done('FullDuplexCall with echo metadata after half-close');
  expectEchoed('FullDuplexCall with echo metadata', duplexHeaders, (await ended).metadata);
};

/** `response_status:{code, message}` must end the UnaryCall (and, if asked, a FullDuplexCall) with exactly that. */
export async function expectEchoedStatus(ctx: CaseContext, code: status, message: string, overDuplex: boolean): Promise<void> {
  const response_status = { code, message };
  const what = `UnaryCall{response_status:{code:${code}, message:${JSON.stringify(message)}}}`;
  expectEnded(what, await settled(unaryCall(testService(ctx), ctx, { response_status })), code, message);
  if (!overDuplex) return;
  const { call } = duplex(ctx);
  call.on('error', () => undefined);
  call.on('data', () => undefined);
  const ended = finalStatus(call);
  call.write({ response_status });
  call.end();
  expectEnded('FullDuplexCall{response_status}', await ended, code, message);
}

const statusCodeAndMessage: CaseFn = (ctx) => expectEchoedStatus(ctx, status.UNKNOWN, 'test status message', true);

const specialStatusMessage: CaseFn = (ctx) => expectEchoedStatus(ctx, status.UNKNOWN, '\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n', false);

const unimplementedMethod: CaseFn = async (ctx) => {
  const client = testService(ctx);
  await expectStatus('TestService/UnimplementedCall', unary((cb) => client.UnimplementedCall({}, ctx.deadline(), cb)), status.UNIMPLEMENTED);
};

const unimplementedService: CaseFn = async (ctx) => {
  const client = ctx.client(ctx.protos.grpc.testing.UnimplementedService);
  await expectStatus('UnimplementedService/UnimplementedCall', unary((cb) => client.UnimplementedCall({}, ctx.deadline(), cb)), status.UNIMPLEMENTED);
};

export const GRPC_TESTING_CASES: Record<string, CaseFn> = {
  empty_unary: emptyUnary,
  large_unary: largeUnary,
  client_compressed_unary: clientCompressedUnary,
  server_compressed_unary: serverCompressedUnary,
  client_streaming: clientStreaming,
  client_compressed_streaming: clientCompressedStreaming,
  server_streaming: serverStreaming,
  server_compressed_streaming: serverCompressedStreaming,
  ping_pong: pingPong,
  empty_stream: emptyStream,
  cancel_after_begin: cancelAfterBegin,
  cancel_after_first_response: cancelAfterFirstResponse,
  timeout_on_sleeping_server: timeoutOnSleepingServer,
  custom_metadata: customMetadata,
  status_code_and_message: statusCodeAndMessage,
  special_status_message: specialStatusMessage,
  unimplemented_method: unimplementedMethod,
  unimplemented_service: unimplementedService,
};
