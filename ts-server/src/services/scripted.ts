/**
 * interop.scripted.Scripted (docs/peer-contract.md, "The scripted service and the data suites"):
 * one generic handler for the four call shapes. The first request's script says how to answer;
 * the server reports what it received (RequestInfo) in the `request_info` of its last response
 * when the call ends OK with at least one response (it knows in advance which response is the
 * last), else in the trailer `x-scripted-request-info-bin`: a large RequestInfo in a trailer
 * would pass grpc-js's ~64 KiB limit on received headers, and grpc-js then hangs until the deadline.
 *
 * grpc-js has no rich-error API: `grpc-status-details-bin` is added to the status metadata by
 * hand, serialized as google.rpc.Status with proto-loader's protobufjs types, so `details_code`
 * different from the status code can be sent. A status OK always carries grpc-js's own message
 * ("OK"): `callback(null, …)` and `call.end()` take no message.
 */
import type { Readable } from 'node:stream';
import {
  Metadata,
  status,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import type { Reply__Output } from '../../../ts-common/src/generated/interop/scripted/Reply.js';
import type { Metadatum__Output } from '../../../ts-common/src/generated/interop/scripted/Metadatum.js';
import type { Script__Output } from '../../../ts-common/src/generated/interop/scripted/Script.js';
import type { ScriptedHandlers } from '../../../ts-common/src/generated/interop/scripted/Scripted.js';
import type { ScriptedRequest__Output } from '../../../ts-common/src/generated/interop/scripted/ScriptedRequest.js';
import type { RequestInfo } from '../../../ts-common/src/generated/interop/scripted/RequestInfo.js';
import type { ScriptedResponse } from '../../../ts-common/src/generated/interop/scripted/ScriptedResponse.js';
import type { Values__Output } from '../../../ts-common/src/generated/interop/scripted/Values.js';
import { protoRoot } from '../../../ts-common/src/proto.js';
import type { Faults } from '../faults.js';
import type { ServerHooks } from '../server.js';
import { isSettableStatus, SETTABLE_STATUSES, setHealth } from './health.js';
import { mangleMessage, ValueFaults } from './scripted-faults.js';

export const REQUEST_INFO_TRAILER = 'x-scripted-request-info-bin';
export const DETAILS_TRAILER = 'grpc-status-details-bin';

/** Request metadata keys the library adds or keeps for itself: not reported in RequestInfo. */
const OWN_KEYS = new Set([':authority', 'user-agent', 'te', 'content-type']);

type Method = 'Unary' | 'ServerStream' | 'ClientStream' | 'BidiStream';

/** What the handler needs of a call, whatever its shape. */
interface Shape {
  method: Method;
  call: ServerUnaryCall<ScriptedRequest__Output, ScriptedResponse> | ServerReadableStream<ScriptedRequest__Output, ScriptedResponse> | ServerWritableStream<ScriptedRequest__Output, ScriptedResponse> | ServerDuplexStream<ScriptedRequest__Output, ScriptedResponse>;
  /** The next request, or undefined at half-close (unary and server streaming: the one request, once). */
  next(): Promise<ScriptedRequest__Output | undefined>;
  /** Server streaming and bidi: sends one response. */
  write?(response: ScriptedResponse): void;
  /** Ends the call: `response` is the one response of a unary or client-streaming call with code 0. */
  finish(code: number, message: string, trailers: Metadata, response?: ScriptedResponse): void;
  /** The process serving the call (restart_server_after_ms). */
  hooks?: ServerHooks | undefined;
}

/** A Metadatum the library refused (grpc-js Metadata.add throws on illegal keys or values). */
class MetadataRefused extends Error {
  constructor(key: string, cause: unknown) {
    super(`scripted: cannot send metadata ${key}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** Adds scripted metadata one value at a time (or joined, under scripted-metadata-joined). */
function addMetadata(into: Metadata, list: Metadatum__Output[], faults: Faults): Metadata {
  for (const m of list) {
    const binary = m.key.endsWith('-bin');
    let values: Array<string | Buffer> = binary ? m.binary_values : m.values;
    if (faults.has('scripted-metadata-joined') && values.length > 1) {
      values = binary ? [Buffer.concat(m.binary_values)] : [m.values.join(', ')];
    }
    for (const v of values) {
      try {
        into.add(m.key, v);
      } catch (err) {
        throw new MetadataRefused(m.key, err);
      }
    }
  }
  return into;
}

/** The request metadata as the library gave it to the handler, one Metadatum per key, in order. */
function requestHeaders(metadata: Metadata): Array<{ key: string; values?: string[]; binary_values?: Buffer[] }> {
  const out: Array<{ key: string; values?: string[]; binary_values?: Buffer[] }> = [];
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    if (OWN_KEYS.has(key) || key.startsWith('grpc-')) continue;
    const text = values.filter((v): v is string => typeof v === 'string');
    const binary = values.filter((v): v is Buffer => Buffer.isBuffer(v));
    out.push({ key, ...(text.length > 0 ? { values: text } : {}), ...(binary.length > 0 ? { binary_values: binary } : {}) });
  }
  return out;
}

/**
 * The call's `:authority` as grpc-js gives it to the handler (`getHost()`, which the older
 * releases the peers run on, 1.10.11 and 1.8.22, do not have); undefined when it gives none.
 */
function authorityOf(call: object): string | undefined {
  const { getHost } = call as { getHost?: () => string | undefined };
  const host = typeof getHost === 'function' ? getHost.call(call) : undefined;
  return host ? host : undefined;
}

/** The client's address as grpc-js names it (`getPeer()`); undefined when it gives nothing. */
function peerOf(call: { getPeer(): string }): string | undefined {
  return call.getPeer() || undefined;
}

/** What RequestInfo reports of the call itself, after the faults that change it. */
function callInfo(call: Shape['call'], faults: Faults): Pick<RequestInfo, 'authority' | 'peer'> {
  const authority = faults.has('scripted-authority-dropped') ? undefined : authorityOf(call);
  const peer = faults.has('scripted-peer-ipv4') ? 'ipv4:127.0.0.1:1' : peerOf(call);
  return { ...(authority !== undefined ? { authority } : {}), ...(peer !== undefined ? { peer } : {}) };
}

function timeLeftMs(deadline: Date | number): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (!Number.isFinite(at)) return -1;
  return Math.max(0, Math.floor(at - Date.now()));
}

/** Resolves after `ms`, or at once when the call is cancelled. */
function sleep(ms: number, cancelled: Promise<void>): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), cancelled]).finally(() => clearTimeout(timer));
}

/**
 * Reads a request stream one message at a time: the stream stays paused between reads, so the
 * requests the script does not ask for stay unread.
 */
class RequestReader {
  private readonly queue: ScriptedRequest__Output[] = [];
  private done = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: Readable,
    private readonly cancelled: Promise<void>,
  ) {
    stream.pause();
    stream.on('data', (m: ScriptedRequest__Output) => {
      this.queue.push(m);
      stream.pause();
      this.wake?.();
    });
    const stop = () => {
      this.done = true;
      this.wake?.();
    };
    stream.on('end', stop);
    stream.on('error', stop);
    void cancelled.then(stop);
  }

  async next(): Promise<ScriptedRequest__Output | undefined> {
    while (this.queue.length === 0 && !this.done) {
      const woken = new Promise<void>((resolve) => (this.wake = resolve));
      this.stream.resume();
      await Promise.race([woken, this.cancelled]);
    }
    return this.queue.shift();
  }
}

/** The calls of Scripted this process is handling now (RequestInfo.active_calls). */
let activeCalls = 0;

/** How each call with a `call_id` ended (docs/peer-contract.md, "Call records"). */
interface CallRecord {
  ended: 'running' | 'completed' | 'cancelled';
  replies_sent: number;
}
const callRecords = new Map<string, CallRecord>();

/** How long a `report_call` waits for the call it names to end. */
const REPORT_WAIT_MS = 5000;

/** The record of call `id` once it has ended (at most REPORT_WAIT_MS, or until `cancelled`). */
async function reportedCall(id: string, cancelled: Promise<void>): Promise<{ ended: string; replies_sent: number }> {
  const until = Date.now() + REPORT_WAIT_MS;
  let stop = false;
  void cancelled.then(() => (stop = true));
  for (;;) {
    const record = callRecords.get(id);
    if (record === undefined && Date.now() >= until) return { ended: 'unknown', replies_sent: 0 };
    if (record !== undefined && (record.ended !== 'running' || Date.now() >= until || stop)) return { ...record };
    if (stop) return { ended: 'unknown', replies_sent: 0 };
    await sleep(20, cancelled);
  }
}

const EMPTY_SCRIPT: Script__Output = {
  headers: [],
  send_headers_first: false,
  replies: [],
  code: 0,
  message: '',
  details: [],
  trailers: [],
  read_requests: 0,
  delay_ms: 0,
  response_compression: '',
  call_id: '',
  report_call: '',
  restart_server_after_ms: 0,
  set_health: [],
};

/**
 * The generic handler: steps 1-8 of the contract, counted in `activeCalls` while it runs, and
 * recorded under the script's `call_id` when it has one.
 */
async function handle(shape: Shape, faults: Faults): Promise<void> {
  activeCalls += 1;
  const active = activeCalls;
  // scripted-cancel-ignored: the handler never looks at cancellation.
  const cancelIgnored = faults.has('scripted-cancel-ignored');
  const isCancelled = (): boolean => !cancelIgnored && shape.call.cancelled;
  const cancelled = cancelIgnored ? new Promise<void>(() => undefined) : cancelledPromise(shape.call as unknown as CancellableCall);
  const record: CallRecord = { ended: 'running', replies_sent: 0 };
  let callId = '';
  try {
    await handleScript(shape, faults, { active, isCancelled, cancelled, record, recordAs: (id) => callRecords.set((callId = id), record) });
  } finally {
    activeCalls -= 1;
    if (callId !== '') record.ended = isCancelled() ? 'cancelled' : 'completed';
  }
}

/** What `handle` gives the script's steps: the call's count, its cancellation and its record. */
interface CallState {
  active: number;
  isCancelled(): boolean;
  cancelled: Promise<void>;
  record: CallRecord;
  recordAs(id: string): void;
}

async function handleScript(shape: Shape, faults: Faults, state: CallState): Promise<void> {
  const { call } = shape;
  const { isCancelled, cancelled } = state;
  // 2. (noted first: "when the handler started") the time left and the request metadata.
  const timeoutMs = timeLeftMs(call.getDeadline());
  const headersReceived = requestHeaders(call.metadata);
  const received = callInfo(call, faults);
  const root = protoRoot();
  const requests: ScriptedRequest__Output[] = [];
  let script: Script__Output = EMPTY_SCRIPT;
  let reported: { ended: string; replies_sent: number } | undefined;

  /** RequestInfo as a plain object (what was read so far); empty under scripted-request-info-empty. */
  const requestInfo = (): RequestInfo =>
    faults.has('scripted-request-info-empty')
      ? {}
      : { headers: headersReceived, timeout_ms: timeoutMs, requests: [...requests], ...received, active_calls: state.active, ...(reported ? { reported_call: reported } : {}) };
  const requestInfoBytes = (): Buffer => {
    const type = root.lookupType('interop.scripted.RequestInfo');
    return Buffer.from(type.encode(type.fromObject(requestInfo())).finish());
  };
  /** The status code the call ends with, after the faults that change it. */
  const sentCodeOf = (code: number): number => (faults.has('scripted-status-unknown') && code !== 0 ? status.UNKNOWN : code);
  /** Set once a response carrying RequestInfo was handed to the library. */
  let infoInResponse = false;

  /**
   * Ends the call: the status, the given trailers, details (when scripted), then RequestInfo
   * unless a response carries it (the call ends OK and its last response has request_info).
   */
  const finish = (code: number, message: string, trailers: Metadata, response?: ScriptedResponse) => {
    if (call.cancelled) return;
    const sentCode = sentCodeOf(code);
    let sentMessage = message;
    if (faults.has('scripted-message-mangled')) sentMessage = mangleMessage(message);
    if (script.details.length > 0 && !faults.has('scripted-details-dropped')) {
      const type = root.lookupType('google.rpc.Status');
      const details = { code: script.details_code ?? sentCode, message: sentMessage, details: script.details };
      trailers.add(DETAILS_TRAILER, Buffer.from(type.encode(type.fromObject(details)).finish()));
    }
    if (!(sentCode === 0 && infoInResponse)) trailers.add(REQUEST_INFO_TRAILER, requestInfoBytes());
    shape.finish(sentCode, sentMessage, trailers, response);
  };

  try {
    // 1. The first request (a client stream half-closed at once: an empty script).
    const first = await shape.next();
    if (first) {
      requests.push(first);
      script = first.script ?? EMPTY_SCRIPT;
    }
    if (script.call_id !== '') state.recordAs(script.call_id);
    if (isCancelled()) return;
    // 2. The record of the call this one asks about, once that one has ended.
    if (script.report_call !== '') reported = await reportedCall(script.report_call, cancelled);
    if (isCancelled()) return;
    // Then the health statuses the script sets, in order (a status name it cannot set ends the call).
    for (const { service, status: to } of script.set_health) {
      if (!isSettableStatus(to)) {
        finish(status.INVALID_ARGUMENT, `scripted: set_health: unknown status ${JSON.stringify(to)} for service ${JSON.stringify(service)} (expected ${SETTABLE_STATUSES.join(', ')})`, new Metadata());
        return;
      }
      setHealth(service, to);
    }
    // Restart: set off a graceful shutdown (this call runs on), then the same addresses again.
    if (script.restart_server_after_ms > 0) shape.hooks?.restart(script.restart_server_after_ms);

    // Every scripted metadata value goes through Metadata.add before anything is sent.
    let headers: Metadata;
    let trailers: Metadata;
    try {
      headers = addMetadata(new Metadata(), faults.has('scripted-headers-dropped') ? [] : script.headers, faults);
      trailers = addMetadata(new Metadata(), script.trailers, faults);
    } catch (err) {
      if (!(err instanceof MetadataRefused)) throw err;
      finish(status.INTERNAL, err.message, new Metadata());
      return;
    }
    // 7. (checked before anything is sent) grpc-js servers never compress their responses:
    // server-interceptors.ts serializeMessage, "response compression is currently not supported".
    if (script.response_compression !== '') {
      finish(status.UNIMPLEMENTED, `scripted: cannot compress responses with ${script.response_compression}: grpc-js servers do not compress responses`, new Metadata());
      return;
    }
    let headersSent = false;
    const sendHeaders = (md: Metadata) => {
      call.sendMetadata(md);
      headersSent = true;
    };
    if (faults.has('scripted-trailers-as-headers')) {
      headers.merge(trailers);
      trailers = new Metadata();
      sendHeaders(headers);
    }

    /** A scripted delay: none under scripted-delay-ignored (the server answers at once). */
    const delay = (ms: number): Promise<void> => sleep(faults.has('scripted-delay-ignored') ? 0 : ms, cancelled);

    // 3. Delay.
    await delay(script.delay_ms);
    if (isCancelled()) return;

    // 4. Headers first, explicitly (possibly empty).
    if (script.send_headers_first && !headersSent) sendHeaders(headers);

    // 5. Client streaming and bidi: read up to read_requests in all, or until half-close.
    if (shape.method === 'ClientStream' || shape.method === 'BidiStream') {
      const limit = faults.has('scripted-read-all') ? 0 : script.read_requests;
      while (first && (limit <= 0 || requests.length < limit)) {
        const next = await shape.next();
        if (!next) break;
        requests.push(next);
      }
      if (isCancelled()) return;
    }

    // 6. Scripted headers not sent yet: now, explicitly (an error is then not trailers-only).
    if (!headersSent && Object.keys(headers.toJSON()).length > 0) sendHeaders(headers);

    // 7. Replies. The value faults apply to `values` only, never to request_info.
    const valueFaults = new ValueFaults(faults);
    const valuesType = root.lookupType('interop.scripted.Values');
    const response = (reply: Reply__Output | undefined): ScriptedResponse => {
      // fill_bytes first: values.by becomes that many zero bytes (the faults apply after).
      const values: Values__Output | null | undefined = reply && reply.fill_bytes > 0 ? ({ ...reply.values, by: Buffer.alloc(reply.fill_bytes) } as Values__Output) : reply?.values;
      if (!values) return {};
      return { values: valueFaults.active ? (valueFaults.message(valuesType, values as unknown as Record<string, unknown>) as unknown as Values__Output) : values };
    };
    /** The last response of a call that ends OK carries RequestInfo (8.). */
    const withRequestInfo = (r: ScriptedResponse): ScriptedResponse => {
      infoInResponse = true;
      return { ...r, request_info: requestInfo() };
    };
    const endsOk = sentCodeOf(script.code) === 0;
    if (shape.method === 'Unary' || shape.method === 'ClientStream') {
      if (script.code !== 0) {
        finish(script.code, script.message, trailers);
        return;
      }
      const reply = script.replies[0];
      await delay(reply?.delay_ms ?? 0);
      if (isCancelled()) return;
      state.record.replies_sent += 1;
      finish(0, script.message, trailers, withRequestInfo(response(reply)));
      return;
    }
    const replies = faults.has('scripted-replies-drop-last') ? script.replies.slice(0, -1) : script.replies;
    for (const [i, reply] of replies.entries()) {
      await delay(reply.delay_ms);
      if (isCancelled()) return;
      const r = response(reply);
      state.record.replies_sent += 1;
      // A write on a cancelled call goes nowhere: grpc-js drops it (scripted-cancel-ignored).
      shape.write?.(endsOk && i === replies.length - 1 ? withRequestInfo(r) : r);
    }
    // 8. The status, the trailers, RequestInfo (unless the last response carried it).
    finish(script.code, script.message, trailers);
  } catch (err) {
    finish(status.INTERNAL, `scripted: ${err instanceof Error ? err.message : String(err)}`, new Metadata());
  }
}

/** Unary and client streaming end through the callback; streaming responses end the stream. */
function unaryFinish(callback: sendUnaryData<ScriptedResponse>) {
  return (code: number, message: string, trailers: Metadata, response?: ScriptedResponse) => {
    if (code === 0) callback(null, response ?? {}, trailers);
    else callback({ code: code as status, details: message, metadata: trailers });
  };
}

function streamFinish(call: ServerWritableStream<ScriptedRequest__Output, ScriptedResponse> | ServerDuplexStream<ScriptedRequest__Output, ScriptedResponse>) {
  return (code: number, message: string, trailers: Metadata) => {
    if (code === 0) call.end(trailers);
    else call.emit('error', { code: code as status, details: message, metadata: trailers });
  };
}

function once(request: ScriptedRequest__Output): () => Promise<ScriptedRequest__Output | undefined> {
  let given = false;
  return () => {
    const r = given ? undefined : request;
    given = true;
    return Promise.resolve(r);
  };
}

interface CancellableCall {
  cancelled: boolean;
  on(event: 'cancelled', listener: () => void): unknown;
}

function cancelledPromise(call: CancellableCall): Promise<void> {
  return new Promise<void>((resolve) => {
    if (call.cancelled) resolve();
    call.on('cancelled', () => resolve());
  });
}

export function scriptedHandlers(faults: Faults, hooks?: ServerHooks): ScriptedHandlers {
  return {
    Unary(call, callback) {
      void handle({ method: 'Unary', hooks, call, next: once(call.request), finish: unaryFinish(callback) }, faults);
    },

    ServerStream(call) {
      void handle({ method: 'ServerStream', hooks, call, next: once(call.request), write: (r) => call.write(r), finish: streamFinish(call) }, faults);
    },

    ClientStream(call, callback) {
      const reader = new RequestReader(call, cancelledPromise(call));
      void handle({ method: 'ClientStream', hooks, call, next: () => reader.next(), finish: unaryFinish(callback) }, faults);
    },

    BidiStream(call) {
      const reader = new RequestReader(call, cancelledPromise(call));
      void handle({ method: 'BidiStream', hooks, call, next: () => reader.next(), write: (r) => call.write(r), finish: streamFinish(call) }, faults);
    },
  };
}
