/**
 * grpc.testing.TestService, the upstream interop service (docs/peer-contract.md, "TestService
 * behaviour"). Two things grpc-js cannot do, read from its source (server-interceptors.ts):
 * - it consumes each request's compressed flag in decompressAndMaybePush without exposing it,
 *   so this server cannot check `expect_compressed`: such requests get UNIMPLEMENTED saying so;
 * - serializeMessage always writes the compressed bit 0: responses are never compressed, so
 *   `response_compressed` cannot be honoured (the response goes out uncompressed).
 */
import { Metadata, status, type ServerDuplexStream, type ServerWritableStream } from '@grpc/grpc-js';
import type { EchoStatus__Output } from '../../../ts-common/src/generated/grpc/testing/EchoStatus.js';
import type { ResponseParameters__Output } from '../../../ts-common/src/generated/grpc/testing/ResponseParameters.js';
import type { StreamingOutputCallRequest__Output } from '../../../ts-common/src/generated/grpc/testing/StreamingOutputCallRequest.js';
import type { StreamingOutputCallResponse } from '../../../ts-common/src/generated/grpc/testing/StreamingOutputCallResponse.js';
import type { TestServiceHandlers } from '../../../ts-common/src/generated/grpc/testing/TestService.js';
import type { UnimplementedServiceHandlers } from '../../../ts-common/src/generated/grpc/testing/UnimplementedService.js';
import type { Faults } from '../faults.js';
import { rpcError } from '../status.js';

const ECHO_INITIAL = 'x-grpc-test-echo-initial';
const ECHO_TRAILING = 'x-grpc-test-echo-trailing-bin';

export const CANNOT_CHECK_COMPRESSION =
  'grpc-js cannot tell whether a request message was compressed (the flag is consumed in server-interceptors.ts decompressAndMaybePush), so expect_compressed cannot be checked';

/** `size` zero bytes, as the upstream suite's COMPRESSABLE payloads are. */
export const payload = (size: number) => ({ type: 'COMPRESSABLE' as const, body: Buffer.alloc(Math.max(0, size)) });

const sleepMicros = (us: number) => new Promise<void>((resolve) => setTimeout(resolve, us / 1000));

/** Echo metadata: the initial entry goes back in the headers, the binary one in the trailers. */
function echo(incoming: Metadata, faults: Faults): { headers: Metadata; trailers: Metadata } {
  const headers = new Metadata();
  const trailers = new Metadata();
  if (!faults.has('testing-no-echo-metadata')) {
    for (const v of incoming.get(ECHO_INITIAL)) headers.add(ECHO_INITIAL, v);
    for (const v of incoming.get(ECHO_TRAILING)) trailers.add(ECHO_TRAILING, v);
  }
  return { headers, trailers };
}

/** The status a request asks for, unless the fault makes the server ignore it (or alter it). */
function echoedStatus(requested: EchoStatus__Output | null | undefined, faults: Faults): { code: status; details: string } | undefined {
  if (!requested || requested.code === 0 || faults.has('testing-status-ignored')) return undefined;
  const code = faults.has('testing-status-unknown') ? status.UNKNOWN : (requested.code as status);
  const details = faults.has('testing-status-message-trimmed') ? requested.message.trim() : requested.message;
  return { code, details };
}

function unsupportedType(type: string | number): string | undefined {
  return type === 'COMPRESSABLE' || type === 0 ? undefined : `unsupported response_type ${type}`;
}

const dropLast = <T>(items: T[], faults: Faults) => (faults.has('testing-stream-drop-last') && items.length >= 2 ? items.slice(0, -1) : items);

/** Writes the responses of one request's parameters, honouring interval_us (unless the fault ignores it). */
async function respond(call: ServerWritableStream<unknown, StreamingOutputCallResponse> | ServerDuplexStream<unknown, StreamingOutputCallResponse>, params: ResponseParameters__Output[], faults: Faults): Promise<void> {
  for (const p of dropLast(params, faults)) {
    if (p.interval_us > 0 && !faults.has('testing-interval-ignored')) await sleepMicros(p.interval_us);
    if (call.cancelled) return;
    call.write({ payload: payload(p.size) });
  }
}

export function testServiceHandlers(faults: Faults): TestServiceHandlers {
  const compressionCheck = (expect: unknown) => (expect && !faults.has('testing-compression-unchecked') ? CANNOT_CHECK_COMPRESSION : undefined);

  /** FullDuplexCall and HalfDuplexCall: `buffered` holds requests until half-close. */
  const duplex = (call: ServerDuplexStream<StreamingOutputCallRequest__Output, StreamingOutputCallResponse>, buffered: boolean) => {
    const { headers, trailers } = echo(call.metadata, faults);
    call.sendMetadata(headers);
    const held: StreamingOutputCallRequest__Output[] = [];
    let chain = Promise.resolve();
    let ended = false;
    const serve = (req: StreamingOutputCallRequest__Output) => {
      chain = chain.then(async () => {
        if (ended) return;
        const wanted = echoedStatus(req.response_status, faults);
        if (wanted) {
          ended = true;
          call.emit('error', { ...wanted, metadata: trailers });
          return;
        }
        await respond(call, req.response_parameters, faults);
      });
    };
    call.on('data', (req: StreamingOutputCallRequest__Output) => (buffered ? held.push(req) : serve(req)));
    call.on('error', () => undefined);
    call.on('end', () => {
      held.splice(0).forEach(serve);
      chain = chain.then(() => {
        if (ended) return;
        if (!buffered && faults.has('testing-duplex-extra')) call.write({ payload: payload(0) });
        call.end(trailers);
      });
    });
  };

  return {
    EmptyCall(call, callback) {
      const { headers, trailers } = echo(call.metadata, faults);
      call.sendMetadata(headers);
      if (faults.has('testing-empty-call-error')) callback({ ...rpcError(status.INTERNAL, 'injected fault: EmptyCall fails'), metadata: trailers });
      else callback(null, {}, trailers);
    },

    UnaryCall(call, callback) {
      const { headers, trailers } = echo(call.metadata, faults);
      call.sendMetadata(headers);
      const req = call.request;
      const problem = unsupportedType(req.response_type) ?? compressionCheck(req.expect_compressed);
      if (problem) {
        const code = problem === CANNOT_CHECK_COMPRESSION ? status.UNIMPLEMENTED : status.INVALID_ARGUMENT;
        callback({ code, details: problem, metadata: trailers });
        return;
      }
      const wanted = echoedStatus(req.response_status, faults);
      if (wanted) {
        callback({ ...wanted, metadata: trailers });
        return;
      }
      const size = faults.has('testing-empty-payload') ? req.response_size - 1 : req.response_size;
      callback(null, { payload: payload(size) }, trailers);
    },

    StreamingOutputCall(call) {
      const { headers, trailers } = echo(call.metadata, faults);
      call.sendMetadata(headers);
      const problem = unsupportedType(call.request.response_type);
      if (problem) {
        call.emit('error', { code: status.INVALID_ARGUMENT, details: problem, metadata: trailers });
        return;
      }
      void respond(call, call.request.response_parameters, faults).then(() => {
        const wanted = faults.has('testing-stream-status-ok') ? undefined : echoedStatus(call.request.response_status, faults);
        if (wanted) call.emit('error', { ...wanted, metadata: trailers });
        else call.end(trailers);
      });
    },

    StreamingInputCall(call, callback) {
      const { headers, trailers } = echo(call.metadata, faults);
      call.sendMetadata(headers);
      let total = 0;
      let problem: string | undefined;
      call.on('data', (req: { payload: { body: Buffer } | null; expect_compressed: unknown }) => {
        problem ??= compressionCheck(req.expect_compressed);
        total += req.payload?.body.length ?? 0;
      });
      call.on('error', () => undefined);
      call.on('end', () => {
        if (problem) callback({ code: status.UNIMPLEMENTED, details: problem, metadata: trailers });
        else callback(null, { aggregated_payload_size: faults.has('testing-aggregate-off') ? total + 1 : total }, trailers);
      });
    },

    FullDuplexCall(call) {
      duplex(call, faults.has('testing-duplex-buffered'));
    },

    HalfDuplexCall(call) {
      duplex(call, true);
    },

    // UnimplementedCall is deliberately absent: grpc-js answers UNIMPLEMENTED for it.
    ...(faults.has('testing-implement-everything') ? { UnimplementedCall: (_call, callback) => callback(null, {}) } : {}),
  } as TestServiceHandlers;
}

/** Registered only under the testing-implement-everything fault: normally no server has it. */
export function unimplementedServiceHandlers(): UnimplementedServiceHandlers {
  return { UnimplementedCall: (_call, callback) => callback(null, {}) };
}
