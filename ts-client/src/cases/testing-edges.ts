/**
 * The `testing-edges` suite (docs/peer-contract.md): what the upstream cases leave out of
 * grpc.testing.TestService — a status other than UNKNOWN on every call shape, and interval_us.
 */
import { status } from '@grpc/grpc-js';
import type { StreamingOutputCallResponse__Output } from '../../../ts-common/src/generated/grpc/testing/StreamingOutputCallResponse.js';
import { expectEnded, expectOk, expectThat } from '../check.js';
import { collect, drain, settled } from '../rpc.js';
import { duplex, expectEchoedStatus, expectPayloads, testService, zeros } from './grpc-testing.js';
import type { CaseFn } from './registry.js';

const statusUnaryNonUnknown: CaseFn = (ctx) => expectEchoedStatus(ctx, status.FAILED_PRECONDITION, 'precondition failed: edges', false);

const statusServerStreamingNonUnknown: CaseFn = async (ctx) => {
  const message = 'out of range after 2';
  const what = `StreamingOutputCall{response_parameters [8, 8], response_status:{code:11, message:${JSON.stringify(message)}}}`;
  const req = { response_parameters: [{ size: 8 }, { size: 8 }], response_status: { code: status.OUT_OF_RANGE, message } };
  const ended = await drain<StreamingOutputCallResponse__Output>(testService(ctx).StreamingOutputCall(req, ctx.deadline()));
  expectPayloads(what, ended.messages, [8, 8]);
  expectEnded(what, ended.status, status.OUT_OF_RANGE, message);
};

const statusBidiNonUnknown: CaseFn = async (ctx) => {
  const message = 'already exists: edges';
  const { call, next, ends } = duplex(ctx);
  try {
    call.write({ response_parameters: [{ size: 8 }], payload: zeros(8) });
    await next('FullDuplexCall {response 8, payload 8}', 8);
    const what = `FullDuplexCall then {response_status:{code:6, message:${JSON.stringify(message)}}}`;
    call.write({ response_status: { code: status.ALREADY_EXISTS, message } });
    expectEnded(what, await settled(ends(what)), status.ALREADY_EXISTS, message);
  } finally {
    call.cancel();
  }
};

const INTERVAL_US = 50_000;
/**
 * From the call's start to the third payload: the server sleeps the interval before each of the
 * three, so 3 × 50 ms less 10 % for timer granularity. The channel is connected first, so connecting cannot make a server that ignores the interval look right; and
 * measured from the start rather than from the first payload, a first payload read late (a busy
 * client) cannot make a server that honours it look wrong — lateness only adds.
 */
const AT_LEAST_MS = 135;

const streamingOutputInterval: CaseFn = async (ctx) => {
  const what = `StreamingOutputCall{response_parameters: 3 × {size:1, interval_us:${INTERVAL_US}}}`;
  const client = testService(ctx);
  await expectOk(`${what}: connecting first`, new Promise<void>((resolve, reject) => client.waitForReady(ctx.deadline().deadline ?? Infinity, (err) => (err ? reject(err) : resolve()))));
  const started = performance.now();
  const call = client.StreamingOutputCall({ response_parameters: [1, 2, 3].map(() => ({ size: 1, interval_us: INTERVAL_US })) }, ctx.deadline());
  const arrivals: number[] = [];
  call.on('data', () => arrivals.push(performance.now() - started));
  const responses = await expectOk(what, collect<StreamingOutputCallResponse__Output>(call));
  expectPayloads(what, responses, [1, 1, 1]);
  const third = arrivals[2] ?? Number.NaN;
  expectThat(`${what} timing`, third >= AT_LEAST_MS, `the third response came ${third.toFixed(1)} ms after the call started; expected at least ${AT_LEAST_MS} ms`);
};

export const TESTING_EDGES_CASES: Record<string, CaseFn> = {
  status_unary_non_unknown: statusUnaryNonUnknown,
  status_server_streaming_non_unknown: statusServerStreamingNonUnknown,
  status_bidi_non_unknown: statusBidiNonUnknown,
  streaming_output_interval: streamingOutputInterval,
};
